#include "app/counter_baseline_file.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace fpm_sink {
namespace {

constexpr std::string_view kMagic = "FPMCBASE";
// A boot id is 36 characters; the length byte bounds it anyway.
constexpr size_t kMaxBootId = 255;
// Every port of FPM_MAX_IFACES with every reason counted is well below this;
// a bigger file is not one of ours, and is not read into memory whole.
constexpr size_t kMaxFileBytes = 16u << 20;

uint64_t fnv1a(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Reads the body front to back; every read checks what is left, so a checksum
// that happens to match garbage still cannot read past the end.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}
  std::optional<uint64_t> le(int bytes) {
    if (rest_.size() < static_cast<size_t>(bytes)) return std::nullopt;
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= uint64_t{static_cast<unsigned char>(rest_[i])} << (8 * i);
    rest_.remove_prefix(static_cast<size_t>(bytes));
    return v;
  }
  std::optional<std::string_view> take(uint64_t n) {
    if (rest_.size() < n) return std::nullopt;
    auto out = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return out;
  }
  bool done() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

Error corrupt(std::string what) {
  return Error{"app.counter_baseline.corrupt", std::move(what), EINVAL};
}

Result<SavedCounterBaseline> decode_body(std::string_view body) {
  Reader r(body);
  SavedCounterBaseline saved;
  auto boot_len = r.le(1);
  auto boot = boot_len ? r.take(*boot_len) : std::nullopt;
  if (!boot) return corrupt("boot id runs past the body");
  saved.maps.boot_id = std::string(*boot);
  auto n_maps = r.le(4);
  if (!n_maps || *n_maps > body.size() / 4) return corrupt("map id count past the body");
  for (uint64_t i = 0; i < *n_maps; ++i) {
    auto id = r.le(4);
    if (!id) return corrupt("map ids run past the body");
    saved.maps.map_ids.push_back(static_cast<uint32_t>(*id));
  }
  auto at = r.le(8);
  if (!at) return corrupt("no cleared_at");
  saved.cleared_at = static_cast<std::time_t>(*at);
  auto n_slots = r.le(4);
  if (!n_slots || *n_slots > body.size() / 8) return corrupt("slot count past the body");
  for (uint64_t i = 0; i < *n_slots; ++i) {
    auto ifindex = r.le(4);
    auto slot = ifindex ? r.le(4) : std::nullopt;
    if (!slot) return corrupt("slots run past the body");
    saved.slots[static_cast<uint32_t>(*ifindex)] = static_cast<uint32_t>(*slot);
  }
  auto counters_len = r.le(4);
  auto counters = counters_len ? r.take(*counters_len) : std::nullopt;
  if (!counters) return corrupt("counters run past the body");
  if (!saved.counters.ParseFromArray(counters->data(), static_cast<int>(counters->size())))
    return corrupt("counters do not parse");
  if (!r.done()) return corrupt("bytes after the counters");
  return saved;
}

Result<std::string> read_file(const std::string& path) {
  auto failed = [&] {
    const int err = errno;
    return Error{"app.counter_baseline.unreadable", path + ": " + std::strerror(err), err};
  };
  // Non-blocking: a FIFO left at the path must not hold up start-up.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return failed();
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error{"app.counter_baseline.unreadable", path + ": not a regular file", EINVAL};
  }
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Error e = failed();
      ::close(fd);
      return e;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxFileBytes) {
      ::close(fd);
      return Error{"app.counter_baseline.corrupt",
                   path + ": larger than " + std::to_string(kMaxFileBytes) + " bytes", EFBIG};
    }
  }
  ::close(fd);
  return out;
}

}  // namespace

std::string CounterMapsIdentity::to_string() const {
  std::string out;
  for (size_t i = 0; i < map_ids.size(); ++i) out += (i ? "," : "") + std::to_string(map_ids[i]);
  return out;
}

std::string encode_counter_baseline(const SavedCounterBaseline& saved) {
  std::string body;
  const std::string_view boot = std::string_view(saved.maps.boot_id)
                                    .substr(0, std::min(saved.maps.boot_id.size(), kMaxBootId));
  put_le(body, boot.size(), 1);
  body += boot;
  put_le(body, saved.maps.map_ids.size(), 4);
  for (uint32_t id : saved.maps.map_ids) put_le(body, id, 4);
  put_le(body, static_cast<uint64_t>(saved.cleared_at), 8);
  put_le(body, saved.slots.size(), 4);
  for (const auto& [ifindex, slot] : saved.slots) {
    put_le(body, ifindex, 4);
    put_le(body, slot, 4);
  }
  const std::string counters = saved.counters.SerializeAsString();
  put_le(body, counters.size(), 4);
  body += counters;

  std::string out(kMagic);
  put_le(out, kCounterBaselineFormatVersion, 4);
  put_le(out, body.size(), 4);
  put_le(out, fnv1a(body), 8);
  return out + body;
}

Result<SavedCounterBaseline> decode_counter_baseline(std::string_view bytes) {
  auto truncated = [&](std::string_view what) {
    return Error{"app.counter_baseline.truncated",
                 std::string(what) + " (" + std::to_string(bytes.size()) + " bytes)", EINVAL};
  };
  // The magic and the version come first: a newer layout may change the rest.
  if (bytes.size() < kMagic.size() + 4) {
    if (bytes.substr(0, std::min(bytes.size(), kMagic.size())) !=
        kMagic.substr(0, std::min(bytes.size(), kMagic.size())))
      return corrupt("not a counter baseline file");
    return truncated("header cut short");
  }
  Reader r(bytes);
  if (*r.take(kMagic.size()) != kMagic) return corrupt("not a counter baseline file");
  const uint64_t version = *r.le(4);
  if (version > kCounterBaselineFormatVersion)
    return Error{"app.counter_baseline.newer_format",
                 "format version " + std::to_string(version) + ", this build reads up to " +
                     std::to_string(kCounterBaselineFormatVersion),
                 EPROTONOSUPPORT};
  if (version == 0) return corrupt("format version 0");
  auto length = r.le(4);
  auto checksum = length ? r.le(8) : std::nullopt;
  if (!checksum) return truncated("header cut short");
  auto body = r.take(*length);
  if (!body) return truncated("body cut short");
  if (!r.done()) return corrupt("bytes after the body");
  if (fnv1a(*body) != *checksum) return corrupt("checksum mismatch");
  return decode_body(*body);
}

Status save_counter_baseline(const std::string& path, const SavedCounterBaseline& saved) {
  const std::string bytes = encode_counter_baseline(saved);
  const std::string tmp = path + ".tmp";
  auto failed = [&](std::string_view step) {
    const int err = errno;
    return Error{"app.counter_baseline.save",
                 std::string(step) + " " + tmp + ": " + std::strerror(err), err};
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return failed("open");
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Error e = failed("write");
      ::close(fd);
      ::unlink(tmp.c_str());
      return e;
    }
    done += static_cast<size_t>(n);
  }
  // The rename must not reach the disk before the bytes (a state directory
  // on a real file system rather than /run).
  if (::fsync(fd) != 0) {
    Error e = failed("sync");
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  }
  if (::close(fd) != 0) {
    Error e = failed("close");
    ::unlink(tmp.c_str());
    return e;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = failed("rename");
    ::unlink(tmp.c_str());
    return e;
  }
  return ok_status();
}

std::optional<SavedCounterBaseline> load_counter_baseline(const std::string& path,
                                                          const CounterMapsIdentity& maps) {
  std::string bytes;
  if (auto read = read_file(path); !read) {
    if (read.error().err == ENOENT) return std::nullopt;
    spdlog::warn("app.counter_baseline.discarded path={} {}; counters shown uncleared", path,
                 read.error().to_string());
    ::unlink(path.c_str());
    return std::nullopt;
  } else {
    bytes = std::move(*read);
  }
  auto discard = [&](const std::string& why) {
    spdlog::warn("app.counter_baseline.discarded path={} {}; counters shown uncleared", path, why);
    ::unlink(path.c_str());
    return std::nullopt;
  };
  auto saved = decode_counter_baseline(bytes);
  if (!saved) return discard(saved.error().to_string());
  if (saved->maps.boot_id != maps.boot_id)
    return discard("taken before a reboot (boot " + saved->maps.boot_id + ", now " + maps.boot_id +
                   ")");
  if (saved->maps.map_ids != maps.map_ids)
    return discard("taken from counter maps " + saved->maps.to_string() + ", now " +
                   maps.to_string() + ": they were recreated");
  return std::move(*saved);
}

std::string counter_baseline_path(const std::string& control_socket) {
  const std::filesystem::path socket(control_socket);
  return socket.parent_path() / (socket.stem().string() + ".counter-baseline");
}

std::string current_boot_id() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

}  // namespace fpm_sink
