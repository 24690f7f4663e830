// Whether the kernel sends ICMP redirects for IPv4 packets it routes back out
// of the device they arrived on (bpf/lib/hairpin.h). That is
// IN_DEV_TX_REDIRECTS: net.ipv4.conf.all.send_redirects OR
// net.ipv4.conf.<dev>.send_redirects. rtnetlink announces neither (netconf has
// no NETCONFA_* attribute for it), so the files under /proc are read instead,
// when a port's entry is written and then on a timer.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>
#include <utility>

namespace fpm_sink {

class SendRedirects {
 public:
  // conf_dir: the directory holding all/ and one directory per device.
  explicit SendRedirects(std::filesystem::path conf_dir = "/proc/sys/net/ipv4/conf")
      : conf_dir_(std::move(conf_dir)) {}

  // The effective switch of device `dev`. A file that is missing or does not
  // hold a number counts as on: the fast path then punts the device's
  // hairpins, and the kernel decides.
  bool effective(std::string_view dev) const;
  // One file's value ("all" or a device name); nullopt if it cannot be read.
  std::optional<bool> read(std::string_view name) const;

 private:
  std::filesystem::path conf_dir_;
};

}  // namespace fpm_sink
