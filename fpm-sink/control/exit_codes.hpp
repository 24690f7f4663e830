// fpm-sinkctl's exit status, for scripts (documented in --help and the man page).
#pragma once

namespace fpm_sink::control {

inline constexpr int kExitOk = 0;
inline constexpr int kExitNotFound = 1;     // the query matched nothing, like grep
inline constexpr int kExitUsage = 2;        // bad command line (or an argument the daemon refused)
inline constexpr int kExitUnreachable = 3;  // no daemon at the socket, or no permission
inline constexpr int kExitFailed = 4;  // the daemon answered with an error, or stopped answering

}  // namespace fpm_sink::control
