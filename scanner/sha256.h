// SHA-256 (FIPS 180-4) for the policy's trusted-digest list.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

namespace ltrack::scanner {

class sha256 {
public:
	sha256();
	void update(std::span<const unsigned char> data);
	std::array<unsigned char, 32> finish();

private:
	void block(const unsigned char *p);
	uint32_t h[8];
	unsigned char buf[64];
	size_t buf_len = 0;
	uint64_t total = 0;
};

std::string to_hex(std::span<const unsigned char> digest);
std::string sha256_hex(std::span<const unsigned char> data);
// Lowercase hex digest of the file's contents; "" with `error` set on I/O failure.
std::string sha256_file(const std::string &path, std::string &error);
std::string sha256_file(const std::string &path); // "" on failure

} // namespace ltrack::scanner
