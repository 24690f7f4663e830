// systemd's readiness protocol (Type=notify, sd_notify(3)): READY=1 once
// fpm-sink serves, RELOADING=1 / READY=1 around a SIGHUP reload, STOPPING=1 on
// the way out, STATUS= lines for `systemctl status`, and WATCHDOG=1 at half
// of WatchdogSec from a timer on the io_context, so a stuck io thread gets the
// service restarted. Without NOTIFY_SOCKET (not started by systemd) every call
// is a no-op.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <string_view>

namespace fpm_sink {

class ServiceNotifier {
 public:
  explicit ServiceNotifier(boost::asio::io_context& io);
  ~ServiceNotifier();
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;

  void ready(std::string_view status);
  void reloading();
  void stopping();
  void status(std::string_view status);
  // Pings systemd's watchdog when the unit set WatchdogSec (sd_watchdog_enabled).
  void start_watchdog();
  void stop_watchdog();
  std::chrono::microseconds watchdog_interval() const { return watchdog_interval_; }

 private:
  void send(const std::string& state);
  void arm_watchdog();

  boost::asio::steady_timer watchdog_timer_;
  std::chrono::microseconds watchdog_interval_{0};
};

}  // namespace fpm_sink
