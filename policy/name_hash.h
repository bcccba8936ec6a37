// The name-rule hash both sides must agree on (abi.h): FNV-1a over the
// text's bytes from last to first.
#pragma once

#include "abi.h"

#include <cstdint>
#include <string_view>

namespace ltrack::policy {

inline uint64_t name_hash(std::string_view text)
{
	uint64_t h = LTRACK_NAME_HASH_INIT;
	for (auto it = text.rbegin(); it != text.rend(); ++it)
		h = ltrack_name_hash_step(h, static_cast<unsigned char>(*it));
	return h;
}

} // namespace ltrack::policy
