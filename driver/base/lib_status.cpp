// lib_status.cpp: see lib_status.h.
#include "base/lib_status.h"

#include <stdexcept>
#include <string>

namespace adalora {

void check(ada_status st, const char *what) {
    if (st != ADA_OK) throw std::runtime_error(std::string(what) + ": " + ada_last_error());
}

}  // namespace adalora
