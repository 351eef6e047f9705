// SPDX-License-Identifier: Apache-2.0
// weft::version(): the version compiled into the library (see weft/version.hpp).
#include "weft/version.hpp"

namespace weft {

const char* version() noexcept { return WEFT_VERSION_STRING; }

}  // namespace weft
