// A named network namespace with one veth pair, entered by the calling thread
// for the test's lifetime (the mount namespace, hence bpffs, stays ours).
// Created and deleted with iproute2, so a crashed test leaves a name you can
// see in `ip netns list`.
#pragma once

#include <cstdint>
#include <string>

namespace fpm_test {

class NetnsVeth {
 public:
  NetnsVeth();  // ns "fpmh8-<pid>", veth a0 <-> b0, both up; aborts the test on failure
  ~NetnsVeth();
  NetnsVeth(const NetnsVeth&) = delete;
  NetnsVeth& operator=(const NetnsVeth&) = delete;

  bool ok() const { return ok_; }
  uint32_t a() const { return a_; }
  uint32_t b() const { return b_; }

 private:
  std::string name_;
  int home_fd_ = -1;
  bool ok_ = false;
  uint32_t a_ = 0, b_ = 0;
};

int run(const std::string& cmd);  // system() with the command echoed on failure

}  // namespace fpm_test
