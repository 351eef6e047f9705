// SPDX-License-Identifier: Apache-2.0
// weft/detail/exception_text.hpp: the exception being handled, as text for reports
// (the excepthook, future callbacks, process-pool workers). Not part of the public API.
//
// Call these inside a catch block; outside one they report "unknown" and "".
#pragma once

#include <string>

namespace weft::detail {

// The demangled type name of the exception being handled ("unknown" if none).
std::string current_exception_type_name();
// what() of the exception being handled if it is a std::exception, else "".
std::string current_exception_message();
// "TypeName: what()" of the exception being handled ("TypeName" if it has no what()).
std::string describe_current_exception();

}  // namespace weft::detail
