// Small helpers shared by the benchmarks in tests/bench: arguments, clocks, the machine a
// figure was measured on, statistics, and mail-like message content.
#ifndef MAILJOURNAL_TESTS_BENCH_BENCH_UTIL_H_
#define MAILJOURNAL_TESTS_BENCH_BENCH_UTIL_H_

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "mailjournal/status.h"

namespace mailjournal {
namespace bench {

// Holds worker threads at the start until every one is ready, so that a timed run starts
// with all of them at once. Thread-safe.
class StartGate {
 public:
  explicit StartGate(int workers) : workers_(workers) {}
  // Worker: ready; returns when the gate opens.
  void Arrive() {
    std::unique_lock<std::mutex> l(mu_);
    ++ready_;
    cv_.notify_all();
    cv_.wait(l, [this] { return open_; });
  }
  // Main: returns when every worker has arrived.
  void WaitReady() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] { return ready_ == workers_; });
  }
  // Main: runs `at_open` (if any) under the gate's lock, so that workers see what it sets,
  // then lets every worker go.
  void Open(const std::function<void()>& at_open = nullptr) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (at_open) at_open();
      open_ = true;
    }
    cv_.notify_all();
  }

 private:
  const int workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  int ready_ = 0;
  bool open_ = false;
};

// The value of a --content option at argv[*i + 1] (*i moves past it): "text" (mail-like, the
// default) or "random" (incompressible body). False, with "PROGRAM: --content is text or
// random" on stderr, for anything else.
inline bool ParseContent(const char* program, int argc, char** argv, int* i, bool* random_content) {
  std::string k = *i + 1 < argc ? argv[++*i] : "";
  if (k != "text" && k != "random") {
    std::fprintf(stderr, "%s: --content is text or random\n", program);
    return false;
  }
  *random_content = k == "random";
  return true;
}

// The arguments a program taking one directory treats alike, after its own options:
// -h/--help (calls `usage` and exits 0), the directory (once), and any other option
// (unknown). False, with why on stderr, when `arg` is not acceptable.
inline bool ParseDirArg(const char* program, const std::string& arg, void (*usage)(),
                        std::string* dir) {
  if (arg == "-h" || arg == "--help") {
    usage();
    std::exit(0);
  }
  if (!arg.empty() && arg[0] == '-') {
    std::fprintf(stderr, "%s: unknown option %s\n", program, arg.c_str());
    return false;
  }
  if (!dir->empty()) {
    std::fprintf(stderr, "%s: one directory only\n", program);
    return false;
  }
  *dir = arg;
  return true;
}

// A decimal count of at least `min`; false for anything else.
inline bool ParseCount(const char* text, uint64_t min, uint64_t* out) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < min) return false;
  *out = v;
  return true;
}

// Seconds on a monotonic clock.
inline double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Prints "PROGRAM: WHAT: STATUS" and exits 1.
[[noreturn]] inline void Die(const char* program, const std::string& what, const Status& s) {
  std::fprintf(stderr, "%s: %s: %s\n", program, what.c_str(), s.ToString().c_str());
  std::exit(1);
}

// User + system CPU seconds of this process, all threads.
inline double CpuSeconds() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

// ---------------------------------------------------------------------------------------
// The machine.

// The whole file, or "" when it cannot be read.
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// `s` without trailing newlines and spaces.
inline std::string TrimRight(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

inline std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) return TrimRight(line.substr(colon + 2));
    }
  }
  return "unknown";
}

// The CPU features that matter to sealing and hashing, of those the CPU has.
inline std::string CpuFlags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) == 0) {
      std::string out;
      for (const char* f : {" aes ", " sha_ni ", " avx2 ", " avx512f "}) {
        if ((line + " ").find(f) != std::string::npos) {
          out += std::string(f + 1, std::strlen(f) - 2) + " ";
        }
      }
      return TrimRight(out);
    }
  }
  return "";
}

// The "date:", "machine:" and "kernel:" lines of a benchmark's header: when and on which host,
// its cores, CPU (with CpuFlags) and RAM, the kernel and its load average.
inline void PrintMachineLines() {
  struct utsname u;
  uname(&u);
  char date[64];
  std::time_t t = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S %Z", std::localtime(&t));
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  std::printf("date:     %s, host %s\n", date, host);
  std::printf("machine:  %u cores (nproc), %s [%s], %.1f GB RAM\n",
              std::thread::hardware_concurrency(), CpuModel().c_str(), CpuFlags().c_str(),
              pages * static_cast<double>(page) / 1e9);
  std::printf("kernel:   %s %s %s; load average %s\n", u.sysname, u.release, u.machine,
              TrimRight(ReadFile("/proc/loadavg")).c_str());
}

// The mount holding `path` (the longest mount point that prefixes its real path), what /sys
// says of its block device, and the free space there. Sets *device to the device's name for
// /proc/diskstats ("vda"), or "" when it is not a /dev node.
inline std::string DiskOf(const std::string& path, std::string* device) {
  std::error_code ec;
  std::string real = std::filesystem::weakly_canonical(path, ec).string();
  std::ifstream in("/proc/mounts");
  std::string dev, mnt, type, opts, best_dev, best_mnt, best_type, best_opts, rest;
  while (in >> dev >> mnt >> type >> opts && std::getline(in, rest)) {
    bool prefix = real == mnt || mnt == "/" ||
                  (real.rfind(mnt, 0) == 0 && real.size() > mnt.size() && real[mnt.size()] == '/');
    if (prefix && mnt.size() >= best_mnt.size()) {
      best_dev = dev, best_mnt = mnt, best_type = type, best_opts = opts;
    }
  }
  std::string out = best_dev + " on " + best_mnt + " (" + best_type + ", " + best_opts + ")";
  std::string name = best_dev.rfind("/dev/", 0) == 0 ? best_dev.substr(5) : "";
  *device = name;
  if (!name.empty()) {
    std::string sys = "/sys/class/block/" + name;
    std::string blocks = TrimRight(ReadFile(sys + "/size"));
    std::string rot = TrimRight(ReadFile(sys + "/queue/rotational"));
    std::string model = TrimRight(ReadFile(sys + "/device/model"));
    std::string driver;
    std::error_code e2;
    auto target = std::filesystem::read_symlink(sys + "/device/driver", e2);
    if (!e2) driver = target.filename().string();
    if (!blocks.empty()) {
      out += ", " + std::to_string(std::stoull(blocks) * 512 / 1000000000) + " GB";
    }
    if (!rot.empty()) out += rot == "0" ? ", non-rotational" : ", rotational";
    if (!model.empty()) out += ", model " + model;
    if (!driver.empty()) out += ", driver " + driver;
  }
  struct statvfs st;
  if (statvfs(path.c_str(), &st) == 0) {
    out += ", " + std::to_string(static_cast<uint64_t>(st.f_bavail) * st.f_frsize / 1000000000) +
           " GB free";
  }
  return out;
}

// What the whole machine did, to tell a program's share from other load.
struct MachineSample {
  double busy = 0;            // CPU seconds, all processes (/proc/stat: not idle, not iowait)
  uint64_t disk_written = 0;  // bytes written to the device (/proc/diskstats)
  uint64_t own_written = 0;   // bytes this process caused to be written (/proc/self/io)
};

// `device` as DiskOf sets it ("" leaves disk_written 0).
inline MachineSample SampleMachine(const std::string& device) {
  MachineSample m;
  std::ifstream stat("/proc/stat");
  std::string cpu;
  uint64_t user = 0, nice = 0, sys = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  stat >> cpu >> user >> nice >> sys >> idle >> iowait >> irq >> softirq >> steal;
  m.busy = static_cast<double>(user + nice + sys + irq + softirq + steal) / sysconf(_SC_CLK_TCK);
  std::ifstream disks("/proc/diskstats");
  std::string line;
  while (!device.empty() && std::getline(disks, line)) {
    std::istringstream in(line);
    std::string major, minor, name;
    uint64_t f[7] = {0};
    in >> major >> minor >> name;
    for (auto& x : f) in >> x;
    if (name == device) m.disk_written = f[6] * 512;  // sectors written
  }
  std::ifstream io("/proc/self/io");
  while (std::getline(io, line)) {
    if (line.rfind("write_bytes:", 0) == 0) m.own_written = std::stoull(line.substr(12));
  }
  return m;
}

// The latencies, in milliseconds and sorted, of `probes` 4 KB writes each followed by
// fdatasync, in a scratch file in `dir` (removed after): the floor under every synced commit
// there. Empty when the file cannot be made.
inline std::vector<double> SyncProbe(const std::string& dir, int probes) {
  std::string path = dir + "/sync-probe." + std::to_string(getpid());
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  std::vector<double> ms;
  if (fd < 0) return ms;
  std::string block(4096, 'x');
  for (int i = 0; i < probes; ++i) {
    double t0 = Now();
    if (write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) break;
    if (fdatasync(fd) != 0) break;
    ms.push_back((Now() - t0) * 1000);
  }
  close(fd);
  unlink(path.c_str());
  std::sort(ms.begin(), ms.end());
  return ms;
}

// ---------------------------------------------------------------------------------------
// Statistics.

inline double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The q-quantile (0 < q <= 1) of `sorted` by the nearest-rank method: the smallest value
// with at least q of the values at or below it. 0 for no values.
inline double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(sorted.size() * q));
  return sorted[std::min(sorted.size(), std::max<size_t>(rank, 1)) - 1];
}

// ---------------------------------------------------------------------------------------
// Mail-like content.

class Random {  // xoshiro256**
 public:
  explicit Random(uint64_t seed) {
    for (auto& s : s_) {
      uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      s = z ^ (z >> 31);
    }
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  uint64_t Uniform(uint64_t n) { return Next() % n; }
  double Unit() { return (Next() >> 11) * 0x1.0p-53; }
  std::string Chars(size_t n, const char* alphabet) {
    size_t k = std::strlen(alphabet);
    std::string s;
    for (size_t i = 0; i < n; ++i) s.push_back(alphabet[Uniform(k)]);
    return s;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// A message as the MTA hands it to a milter: headers as (name, value) with the value's
// leading space kept and folded lines separated by "\n" (no CR), and the body after the
// empty line, with CRLF line ends.
struct MailMessage {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  size_t size = 0;  // the message's bytes: header lines with CRLF, the empty line, the body
};

// One header as it stands in the message: name ":" value with each LF made CRLF, then CRLF
// (what mailjournald's capture rebuilds, milter/session.h HeaderBytes).
inline std::string HeaderLine(const std::string& name, const std::string& value) {
  std::string out = name + ":";
  for (char c : value) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out + "\r\n";
}

inline std::string MailAddress(Random* r, const char* domain) {
  static const char* const kNames[] = {"anna",  "ben",  "chloe", "david", "eva",  "felix",
                                       "greta", "hugo", "ines",  "jonas", "karl", "lena"};
  return std::string(kNames[r->Uniform(12)]) + "." + std::string(kNames[r->Uniform(12)]) +
         std::to_string(r->Uniform(100)) + "@" + domain;
}

// A message of exactly `size` bytes (MailMessage::size; at least the headers' size): eleven
// headers as a bank's outbound mail has them (two Received, DKIM-Signature, From, To,
// Subject, Date, Message-ID, MIME-Version, Content-Type, Content-Transfer-Encoding), then a
// text/plain body of business words drawn with Zipf weights, in lines of about 72 columns
// and paragraphs, some quoted ("> ") as in replies; zstd -3 makes 20,000 such bytes about
// 7,400. With random_content the body is random bytes instead (as incompressible as sealed
// content). commit_bench and milter_load send these.
inline MailMessage MakeMailMessage(Random* r, uint64_t n, uint64_t size, bool random_content) {
  static const char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  static const char kAlnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  static const char* const kWords[] = {
      "the",         "to",        "and",         "of",        "a",         "in",
      "for",         "is",        "on",          "that",      "we",        "you",
      "this",        "with",      "be",          "are",       "as",        "have",
      "it",          "will",      "please",      "our",       "your",      "at",
      "by",          "from",      "not",         "can",       "or",        "an",
      "account",     "payment",   "if",          "all",       "has",       "been",
      "would",       "client",    "regards",     "thank",     "team",      "meeting",
      "review",      "report",    "attached",    "find",      "below",     "balance",
      "transfer",    "loan",      "rate",        "credit",    "statement", "compliance",
      "request",     "approval",  "deadline",    "quarter",   "contract",  "invoice",
      "amount",      "EUR",       "USD",         "terms",     "confirm",   "schedule",
      "call",        "tomorrow",  "Monday",      "Friday",    "update",    "document",
      "signature",   "customer",  "portfolio",   "risk",      "limit",     "branch",
      "mortgage",    "interest",  "fee",         "draft",     "final",     "version",
      "comments",    "changes",   "agreed",      "proposal",  "office",    "number",
      "reference",   "details",   "information", "following", "regarding", "issue",
      "resolved",    "pending",   "received",    "sent",      "next",      "week",
      "month",       "year",      "date",        "time",      "should",    "could",
      "also",        "any",       "more",        "other",     "there",     "which",
      "their",       "they",      "was",         "were",      "about",     "into",
      "out",         "up",        "so",          "no",        "one",       "two",
      "three",       "new",       "per",         "dear",      "best",      "kind",
      "hello",       "hi",        "thanks",      "let",       "me",        "know",
      "questions",   "further",   "soon",        "possible",  "asap",      "note",
      "internal",    "external",  "audit",       "policy",    "procedure", "approved",
      "rejected",    "signed",    "copy",        "original",  "scan",      "PDF",
      "spreadsheet", "figures",   "Q3",          "Q4",        "forecast",  "budget",
      "costs",       "savings",   "settlement",  "trade",     "order",     "bond",
      "equity",      "fund",      "market",      "price",     "volume",    "position",
      "exposure",    "collateral"};
  constexpr size_t kWordCount = sizeof kWords / sizeof kWords[0];
  MailMessage m;
  auto& h = m.headers;
  std::string from = MailAddress(r, "bank.example"), to = MailAddress(r, "customer.example");
  std::string id = r->Chars(12, kAlnum);
  h.push_back({"Received",
               " from mx" + std::to_string(n % 8) + ".bank.example (mx.bank.example [192.0.2." +
                   std::to_string(1 + n % 250) +
                   "])\n\tby gw.bank.example (Postfix) with ESMTPS id " + id + "\n\tfor <" + to +
                   ">; Tue, 14 May 2024 09:" + std::to_string(10 + n % 50) + ":12 +0200 (CEST)"});
  h.push_back({"Received", " from [10.1." + std::to_string(n % 200) + "." +
                               std::to_string(n % 250) +
                               "] (unknown [10.1.0.1])\n\tby mx.bank.example (Postfix) with "
                               "ESMTPSA id " +
                               r->Chars(12, kAlnum) + "\n\tfor <" + to + ">"});
  h.push_back({"DKIM-Signature",
               " v=1; a=rsa-sha256; c=relaxed/relaxed; d=bank.example;\n\t"
               "s=sel2024; t=1715672000; bh=" +
                   r->Chars(43, kBase64) +
                   "=;\n\th=From:To:Subject:Date:Message-ID;\n\tb=" + r->Chars(64, kBase64) +
                   "\n\t " + r->Chars(64, kBase64) + "\n\t " + r->Chars(64, kBase64) + "\n\t " +
                   r->Chars(64, kBase64) + "\n\t " + r->Chars(44, kBase64)});
  h.push_back({"From", " " + from});
  h.push_back({"To", " " + to});
  h.push_back({"Subject", " Re: account " + std::to_string(100000 + r->Uniform(900000)) +
                              " statement review"});
  h.push_back({"Date", " Tue, 14 May 2024 09:" + std::to_string(10 + n % 50) + ":11 +0200"});
  h.push_back({"Message-ID", " <" + r->Chars(20, kAlnum) + "@bank.example>"});
  h.push_back({"MIME-Version", " 1.0"});
  h.push_back({"Content-Type", " text/plain; charset=utf-8"});
  h.push_back({"Content-Transfer-Encoding", " 8bit"});
  size_t head = 2;  // the empty line
  for (const auto& kv : h) head += HeaderLine(kv.first, kv.second).size();
  size_t want = size > head ? size - head : 0;
  std::string& b = m.body;
  b.reserve(want);
  if (random_content) {
    while (b.size() < want) {
      uint64_t v = r->Next();
      b.append(reinterpret_cast<const char*>(&v), std::min<size_t>(8, want - b.size()));
    }
  } else {
    // Zipf(1) over the vocabulary, lines of about 72 columns, paragraphs, quoted blocks.
    std::vector<double> cdf(kWordCount);
    double sum = 0;
    for (size_t i = 0; i < kWordCount; ++i) cdf[i] = (sum += 1.0 / (i + 1));
    std::string line;
    bool quoted = false;
    while (b.size() < want) {
      double u = r->Unit() * sum;
      size_t w = std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin();
      std::string word = kWords[std::min(w, kWordCount - 1)];
      if (r->Uniform(40) == 0) word = std::to_string(r->Uniform(1000000));
      if (line.size() + word.size() + 1 > 72) {
        b += (quoted ? "> " : "") + line + (r->Uniform(6) == 0 ? ".\r\n\r\n" : "\r\n");
        line.clear();
        if (r->Uniform(8) == 0) quoted = !quoted;
      }
      line += (line.empty() ? "" : " ") + word;
    }
    b.resize(want);
    if (want >= 2) b.replace(want - 2, 2, "\r\n");
  }
  m.size = head + b.size();
  return m;
}

}  // namespace bench
}  // namespace mailjournal

#endif  // MAILJOURNAL_TESTS_BENCH_BENCH_UTIL_H_
