#include "sha256.h"
#include "unique_fd.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdexcept>
#include <unistd.h>
#include <vector>

namespace ltrack::scanner {

// libcrypto fails only on allocation failure or a broken installation; no
// digest comes out then (sha256_file reports it as an error), so a file is
// never matched against the trusted list by a digest that was not computed.
[[noreturn]] static void crypto_failure(const char *what)
{
	throw std::runtime_error(std::string("libcrypto SHA-256 ") + what + " failed");
}

void sha256::free_ctx::operator()(evp_md_ctx_st *c) const
{
	EVP_MD_CTX_free(c);
}

sha256::sha256() : ctx_(EVP_MD_CTX_new())
{
	if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
		crypto_failure("init");
}

void sha256::update(std::span<const unsigned char> data)
{
	if (EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1)
		crypto_failure("update");
}

std::array<unsigned char, 32> sha256::finish()
{
	std::array<unsigned char, 32> out{};
	unsigned int n = 0;
	if (EVP_DigestFinal_ex(ctx_.get(), out.data(), &n) != 1 || n != out.size())
		crypto_failure("final");
	return out;
}

std::string to_hex(std::span<const unsigned char> digest)
{
	static const char hex[] = "0123456789abcdef";
	std::string s;
	for (unsigned char c : digest) {
		s += hex[c >> 4];
		s += hex[c & 15];
	}
	return s;
}

std::string sha256_hex(std::span<const unsigned char> data)
{
	sha256 s;
	s.update(data);
	auto d = s.finish();
	return to_hex(d);
}

result<std::string> sha256_file(const std::string &path)
{
	unique_fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
	if (!fd)
		return status::from_errno(path);
	result<std::string> digest = status::fail(path + ": no digest");
	try {
		sha256 s;
		std::vector<unsigned char> buf(1 << 20);
		for (;;) {
			ssize_t n = read(fd.get(), buf.data(), buf.size());
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				digest = status::from_errno(path);
				break;
			}
			if (n == 0) {
				digest = to_hex(s.finish());
				break;
			}
			s.update({buf.data(), size_t(n)});
		}
	} catch (const std::exception &e) {
		digest = status::fail(path + ": " + e.what());
	}
	return digest;
}

} // namespace ltrack::scanner
