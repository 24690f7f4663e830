// The clear counters baseline across a restart: the file round trip, every
// way a file can be wrong (each of which costs the clear, never the start),
// and a port whose counter slot changed meanwhile.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "app/counter_baseline.hpp"
#include "app/counter_baseline_file.hpp"

namespace fpm_sink {
namespace {

namespace fs = std::filesystem;

const CounterMapsIdentity kMaps{"6f1c0b6e-3f55-4d43-9a0e-0d2b6c1b9a11", {41, 42, 43}};

void add(google::protobuf::RepeatedPtrField<control::Counter>* list, const char* name,
         uint64_t packets) {
  auto* c = list->Add();
  c->set_name(name);
  c->set_packets(packets);
  c->set_bytes(packets * 100);
}

control::CountersReply counters(uint64_t redirect, uint64_t port3) {
  control::CountersReply r;
  r.set_fast_path(true);
  add(r.mutable_verdicts(), "redirect", redirect);
  add(r.mutable_reasons(), "no_route", redirect / 2);
  auto* p3 = r.add_interfaces();
  p3->set_ifindex(3);
  p3->set_name("eth3");
  add(p3->mutable_verdicts(), "redirect", port3);
  return r;
}

SavedCounterBaseline sample() {
  return SavedCounterBaseline{kMaps, 1733382000, {{3, 0}, {7, 1}}, counters(10, 6)};
}

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& p, std::string_view bytes) {
  std::ofstream(p, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

class CounterBaselineFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fpm-sink-baseline-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "control.counter-baseline").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::string path_;
};

TEST(CounterBaselineEncoding, RoundTrip) {
  const auto saved = sample();
  auto back = decode_counter_baseline(encode_counter_baseline(saved));
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->maps, kMaps);
  EXPECT_EQ(back->cleared_at, saved.cleared_at);
  EXPECT_EQ(back->slots, saved.slots);
  EXPECT_EQ(back->counters.SerializeAsString(), saved.counters.SerializeAsString());
}

TEST(CounterBaselineEncoding, TruncationAtEveryLengthIsRefused) {
  const std::string bytes = encode_counter_baseline(sample());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = decode_counter_baseline(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(r.ok()) << "accepted " << n << " of " << bytes.size() << " bytes";
    EXPECT_EQ(r.error().id, "app.counter_baseline.truncated") << n << " bytes";
  }
}

TEST(CounterBaselineEncoding, EveryFlippedByteAndTrailingBytesAreRefused) {
  const std::string bytes = encode_counter_baseline(sample());
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (unsigned char bit : {0x01, 0x80}) {
      std::string bad = bytes;
      bad[i] = static_cast<char>(bad[i] ^ bit);
      EXPECT_FALSE(decode_counter_baseline(bad).ok()) << "byte " << i << " ^ " << int(bit);
    }
  }
  auto longer = decode_counter_baseline(bytes + '\0');
  ASSERT_FALSE(longer.ok());
  EXPECT_EQ(longer.error().id, "app.counter_baseline.corrupt");
}

TEST(CounterBaselineEncoding, GarbageIsRefused) {
  std::mt19937 rng(7);
  for (size_t n : {1u, 7u, 12u, 24u, 100u, 4096u}) {
    std::string junk(n, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    auto r = decode_counter_baseline(junk);
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.error().id, "app.counter_baseline.corrupt") << n;
  }
  // The right header over a body that is not one: a matching checksum does
  // not make the reader run past the end.
  std::string body(40, '\xff');
  std::string forged = encode_counter_baseline(sample()).substr(0, 8) + std::string("\1\0\0\0", 4);
  for (int i = 0; i < 4; ++i) forged.push_back(static_cast<char>((body.size() >> (8 * i)) & 0xff));
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : body) h = (h ^ c) * 0x100000001b3ull;
  for (int i = 0; i < 8; ++i) forged.push_back(static_cast<char>((h >> (8 * i)) & 0xff));
  auto r = decode_counter_baseline(forged + body);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().id, "app.counter_baseline.corrupt");
}

TEST(CounterBaselineEncoding, NewerFormatIsRefused) {
  std::string bytes = encode_counter_baseline(sample());
  bytes[8] = static_cast<char>(kCounterBaselineFormatVersion + 1);
  auto r = decode_counter_baseline(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().id, "app.counter_baseline.newer_format");
  EXPECT_EQ(r.error().err, EPROTONOSUPPORT);
  // Even cut right after the version: a newer layout is not ours to judge.
  EXPECT_EQ(decode_counter_baseline(bytes.substr(0, 12)).error().id,
            "app.counter_baseline.newer_format");
}

TEST_F(CounterBaselineFile, SavedThenLoadedForTheSameMaps) {
  ASSERT_TRUE(save_counter_baseline(path_, sample()).ok());
  EXPECT_FALSE(fs::exists(path_ + ".tmp"));
  auto loaded = load_counter_baseline(path_, kMaps);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->cleared_at, sample().cleared_at);
  EXPECT_EQ(loaded->counters.interfaces(0).verdicts(0).packets(), 6u);
  EXPECT_TRUE(fs::exists(path_));  // still valid for the next restart
}

TEST_F(CounterBaselineFile, OtherMapsOrAnotherBootDiscardTheFile) {
  CounterMapsIdentity recreated = kMaps;
  recreated.map_ids[1] = 99;
  ASSERT_TRUE(save_counter_baseline(path_, sample()).ok());
  EXPECT_FALSE(load_counter_baseline(path_, recreated));
  EXPECT_FALSE(fs::exists(path_));  // discarded once, not again at every start

  CounterMapsIdentity next_boot = kMaps;
  next_boot.boot_id = "0d7e2c1a-9b8f-4e1d-8c7b-6a5f4e3d2c1b";
  ASSERT_TRUE(save_counter_baseline(path_, sample()).ok());
  EXPECT_FALSE(load_counter_baseline(path_, next_boot));
  EXPECT_FALSE(fs::exists(path_));
}

TEST_F(CounterBaselineFile, DamagedFilesAreDiscardedNotFatal) {
  const std::string good = encode_counter_baseline(sample());
  std::string newer = good;
  newer[8] = static_cast<char>(kCounterBaselineFormatVersion + 1);
  for (const std::string& bad : {std::string(), good.substr(0, good.size() / 2), newer,
                                 std::string("not a baseline at all\n")}) {
    write_bytes(path_, bad);
    EXPECT_FALSE(load_counter_baseline(path_, kMaps)) << bad.size() << " bytes";
    EXPECT_FALSE(fs::exists(path_));
  }
  EXPECT_FALSE(load_counter_baseline(path_, kMaps));  // no file: nothing to restore
  ASSERT_EQ(::mkfifo(path_.c_str(), 0600), 0);        // must not block the start
  EXPECT_FALSE(load_counter_baseline(path_, kMaps));
  EXPECT_FALSE(fs::exists(path_));
  fs::create_directory(path_);  // unreadable as a file
  EXPECT_FALSE(load_counter_baseline(path_, kMaps));
  write_bytes(dir_ / "big", std::string((16u << 20) + 1, 'F'));
  EXPECT_FALSE(load_counter_baseline((dir_ / "big").string(), kMaps));
  EXPECT_FALSE(fs::exists(dir_ / "big"));
}

TEST_F(CounterBaselineFile, SaveIntoAMissingDirectoryFails) {
  auto st = save_counter_baseline((dir_ / "gone" / "x").string(), sample());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().id, "app.counter_baseline.save");
  EXPECT_EQ(st.error().err, ENOENT);
}

// What `clear counters` then a restart with the maps kept looks like: the new
// process's baseline subtracts what the old one's clear saw, at the same time.
TEST_F(CounterBaselineFile, AClearOutlivesTheProcessThatMadeIt) {
  const CounterSlots slots{{3, 0}};
  {
    CounterBaseline before;
    before.persist(path_, kMaps);
    before.set(counters(10, 6), slots, 1000);
  }
  CounterBaseline after;
  after.persist(path_, kMaps);
  EXPECT_EQ(after.cleared_at(), 1000);
  auto now = counters(25, 16);
  after.apply(&now, slots);
  EXPECT_EQ(now.cleared_at(), 1000u);
  EXPECT_EQ(now.verdicts(0).packets(), 15u);
  EXPECT_EQ(now.interfaces(0).verdicts(0).packets(), 10u);

  after.drop_saved();  // the maps go with the process: so does the clear
  CounterBaseline cold;
  cold.persist(path_, kMaps);
  EXPECT_EQ(cold.cleared_at(), 0);
}

// After a restart, slots are handed out again: eth3 may now count in the slot
// another port used. Its baseline is for the old slot's counts, not these.
TEST(CounterBaselineSlots, APortInAnotherSlotIsNotSubtracted) {
  CounterBaseline base;
  base.set(counters(10, 6), {{3, 0}}, 1);
  auto moved = counters(12, 50);  // slot 1 also holds the old port's 44
  base.apply(&moved, {{3, 1}});
  EXPECT_EQ(moved.interfaces(0).verdicts(0).packets(), 50u);
  EXPECT_EQ(moved.verdicts(0).packets(), 2u);  // the totals are not per slot

  auto kept = counters(12, 50);
  base.apply(&kept, {{3, 0}});
  EXPECT_EQ(kept.interfaces(0).verdicts(0).packets(), 44u);
}

TEST(CounterBaselinePath, BesideTheControlSocket) {
  EXPECT_EQ(counter_baseline_path("/run/fpm-sink/control.sock"),
            "/run/fpm-sink/control.counter-baseline");
  EXPECT_EQ(counter_baseline_path("/tmp/x/ctl"), "/tmp/x/ctl.counter-baseline");
}

}  // namespace
}  // namespace fpm_sink
