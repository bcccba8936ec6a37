// SHA-256 for the policy's trusted-digest list, from OpenSSL's libcrypto (EVP),
// which uses the CPU's SHA extensions where it has them.
#pragma once

#include <array>
#include <memory>
#include <span>
#include <string>

#include "status.h"

struct evp_md_ctx_st;

namespace ltrack::scanner {

class sha256 {
public:
	sha256();
	void update(std::span<const unsigned char> data);
	std::array<unsigned char, 32> finish();

private:
	struct free_ctx {
		void operator()(evp_md_ctx_st *c) const;
	};
	std::unique_ptr<evp_md_ctx_st, free_ctx> ctx_;
};

std::string to_hex(std::span<const unsigned char> digest);
std::string sha256_hex(std::span<const unsigned char> data);
// Lowercase hex digest of the file's contents, or why it could not be read.
result<std::string> sha256_file(const std::string &path);

} // namespace ltrack::scanner
