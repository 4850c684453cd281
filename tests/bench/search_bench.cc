// search_bench: search at scale (issue 8): query time over a journal of a million messages,
// the index's size, and what indexing costs the capture commit path.
//
// Not a test: it asserts nothing about time. In the manner of verify_bench it builds a journal
// of N synthetic messages through the real Journal API (MessageWriter, SetTerms, group commits
// from several threads, each synced), each message with postings from IndexMessage() over a
// synthetic plaintext message (Zipf-distributed English-like words and Chinese text) under
// the index key of each of its departments, and commit times spread over three years; then
// times the admin protocol's "search" operation (search_admin.cc, the code mailjournald runs)
// for several kinds of query. Before that it measures, on realistic ~30 KB MIME messages, what
// IndexMessage costs per message against sealing, and the commit throughput of the daemon's
// capture path (milter/session.h Session) with and without indexing.
// See tests/bench/README.md, "search_bench".
#include <arpa/inet.h>
#include <iconv.h>
#include <leveldb/db.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench_util.h"
#include "mailjournal/admin_protocol.h"
#include "mailjournal/entry.h"
#include "mailjournal/index_keys.h"
#include "mailjournal/journal.h"
#include "mailjournal/message_writer.h"
#include "mailjournal/policy_holder.h"
#include "mailjournal/query_sealer.h"
#include "mailjournal/seal.h"
#include "mailjournal/search_admin.h"
#include "mailjournal/search_index.h"
#include "mailjournal/search_query.h"
#include "mailjournal/text_extract.h"
#include "mailjournal/time_util.h"
#include "session.h"

#ifndef SEARCH_BENCH_GMIME_VERSION
#define SEARCH_BENCH_GMIME_VERSION "?"
#endif
#ifndef SEARCH_BENCH_ICU_VERSION
#define SEARCH_BENCH_ICU_VERSION "?"
#endif
#ifndef SEARCH_BENCH_LIBXML2_VERSION
#define SEARCH_BENCH_LIBXML2_VERSION "?"
#endif

namespace mailjournal {
namespace {

constexpr char kProgram[] = "search_bench";
constexpr uint64_t kSeed = 20261127;
constexpr int64_t kDayUs = 86400LL * 1000000;
constexpr int64_t kSpanUs = 3 * 365 * kDayUs;  // the commit times of the journal span 3 years
constexpr int64_t kWindowUs = 30 * kDayUs;     // a date-limited query's window
constexpr char kMessagesFile[] = "search_bench.messages";  // N, for --reuse

struct Options {
  std::string dir;
  uint64_t messages = 1000000;
  bool reuse = false;
  bool build_only = false;
  bool skip_cost = false;
  bool size = false;       // with --reuse: measure the index's size again
  std::string only;        // "components", "commit" or "builder": that cost phase alone
  uint64_t queries = 200;  // per kind
  uint64_t limit = 20;
  int threads = 16;
  uint64_t sample = 2000;
  int commit_threads = 32;
  uint64_t commit_messages = 20000;
  int runs = 3;
  uint64_t compare_messages = 50000;
};

void Usage() {
  std::fprintf(
      stderr,
      "usage: search_bench [options] DIR          cost phases, then build a journal in DIR/journal "
      "and query it\n"
      "       search_bench --reuse [options] DIR  query the journal built in DIR before\n"
      "options:\n"
      "  --messages N          messages in the journal (default 1000000)\n"
      "  --threads T           committing threads while building (default 16)\n"
      "  --queries Q           queries per kind (default 200)\n"
      "  --limit L             hits per search request (default 20)\n"
      "  --build-only          build (and measure the index's size), do not query\n"
      "  --reuse               do not build: query the journal in DIR\n"
      "  --size                with --reuse: measure the index's size again first (merges "
      "and compacts the postings)\n"
      "  --skip-cost           skip the indexing-cost phases (components, commit path, "
      "builder with/without postings)\n"
      "  --only PHASE          run one indexing-cost phase alone (components, commit or "
      "builder; for profiling) and stop\n"
      "  --sample S            realistic MIME messages for the component costs (default 2000)\n"
      "  --commit-threads T    Session threads in the commit-path runs (default 32)\n"
      "  --commit-messages M   messages per commit-path run (default 20000)\n"
      "  --runs R              commit-path runs with and without indexing (default 3 each)\n"
      "  --compare-messages K  messages of the builder run with and without postings "
      "(default 50000)\n");
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto count = [&](uint64_t min, uint64_t* out) {
      if (i + 1 >= argc || !bench::ParseCount(argv[++i], min, out)) {
        std::fprintf(stderr, "%s: %s needs a number >= %" PRIu64 "\n", kProgram, a.c_str(), min);
        return false;
      }
      return true;
    };
    uint64_t v = 0;
    if (a == "--messages") {
      if (!count(1, &o->messages)) return false;
    } else if (a == "--threads") {
      if (!count(1, &v)) return false;
      o->threads = static_cast<int>(std::min<uint64_t>(v, 256));
    } else if (a == "--queries") {
      if (!count(1, &o->queries)) return false;
    } else if (a == "--limit") {
      if (!count(1, &o->limit)) return false;
    } else if (a == "--build-only") {
      o->build_only = true;
    } else if (a == "--reuse") {
      o->reuse = true;
    } else if (a == "--skip-cost") {
      o->skip_cost = true;
    } else if (a == "--size") {
      o->size = true;
    } else if (a == "--only") {
      o->only = i + 1 < argc ? argv[++i] : "";
      if (o->only != "components" && o->only != "commit" && o->only != "builder") {
        std::fprintf(stderr, "%s: --only is components, commit or builder\n", kProgram);
        return false;
      }
    } else if (a == "--sample") {
      if (!count(10, &o->sample)) return false;
    } else if (a == "--commit-threads") {
      if (!count(1, &v)) return false;
      o->commit_threads = static_cast<int>(std::min<uint64_t>(v, 1024));
    } else if (a == "--commit-messages") {
      if (!count(1, &o->commit_messages)) return false;
    } else if (a == "--runs") {
      if (!count(1, &v)) return false;
      o->runs = static_cast<int>(std::min<uint64_t>(v, 100));
    } else if (a == "--compare-messages") {
      if (!count(1, &o->compare_messages)) return false;
    } else if (!bench::ParseDirArg(kProgram, a, Usage, &o->dir)) {
      return false;
    }
  }
  if (o->dir.empty()) {
    Usage();
    return false;
  }
  return true;
}

[[noreturn]] void Die(const std::string& what, const Status& s) { bench::Die(kProgram, what, s); }

using bench::CpuSeconds;
using bench::Now;
using bench::Random;

double ThreadCpu() {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

uint64_t DiskFree(const std::string& dir) {
  struct statvfs st;
  if (statvfs(dir.c_str(), &st) != 0) return UINT64_MAX;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

// Bytes of the regular files under `dir` (what du counts, to the byte).
uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code e2;
    if (it->is_regular_file(e2)) total += it->file_size(e2);
  }
  return total;
}

void RemoveAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

std::string Commas(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(i, ",");
  return s;
}

// Mean, p50, p99 and max of a sample.
struct Stats {
  double mean = 0, p50 = 0, p99 = 0, max = 0;
  size_t n = 0;
};
Stats StatsOf(std::vector<double> v) {
  Stats s;
  s.n = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / v.size();
  s.p50 = bench::Percentile(v, 0.5);
  s.p99 = bench::Percentile(v, 0.99);
  s.max = v.back();
  return s;
}

// How busy the machine was during a phase: this process's CPU against all processes' (other
// load on the 2 cores shows in every figure; see the "others" share).
std::string g_device;  // the journal's disk, for /proc/diskstats
class PhaseLoad {
 public:
  PhaseLoad() : m0_(bench::SampleMachine(g_device)), cpu0_(CpuSeconds()), t0_(Now()) {}
  void Print(const char* phase) const {
    bench::MachineSample m1 = bench::SampleMachine(g_device);
    double t = Now() - t0_, cpu = CpuSeconds() - cpu0_;
    std::printf(
        "  (machine during %s, %.0f s: busy %.2f cores, this process %.2f, others %.2f; "
        "disk written %.0f MB, by this process %.0f MB)\n",
        phase, t, (m1.busy - m0_.busy) / t, cpu / t, std::max(0.0, m1.busy - m0_.busy - cpu) / t,
        (m1.disk_written - m0_.disk_written) / 1e6, (m1.own_written - m0_.own_written) / 1e6);
    std::fflush(stdout);
  }

 private:
  bench::MachineSample m0_;
  double cpu0_, t0_;
};

// ---------------------------------------------------------------------------------------
// The synthetic language: English-like words and Chinese words, both Zipf-distributed.

std::string Utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return s;
}

class Zipf {
 public:
  Zipf(size_t n, double s) : cdf_(n) {
    double sum = 0;
    for (size_t i = 0; i < n; ++i) cdf_[i] = (sum += 1.0 / std::pow(i + 1.0, s));
  }
  size_t Draw(Random* r) const {
    double u = r->Unit() * cdf_.back();
    size_t i = std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin();
    return std::min(i, cdf_.size() - 1);
  }
  // The probability of rank i (0-based) in one draw.
  double P(size_t i) const { return (cdf_[i] - (i ? cdf_[i - 1] : 0)) / cdf_.back(); }

 private:
  std::vector<double> cdf_;
};

constexpr size_t kWords = 50000;     // English-like vocabulary
constexpr size_t kHanChars = 3500;   // common Han characters
constexpr size_t kHanWords = 20000;  // Chinese words made of them

const char* const kFirst[] = {
    "anna", "ben",    "chloe", "david", "eva",   "felix", "greta", "hugo",   "ines", "jonas",
    "karl", "lena",   "mara",  "nils",  "olga",  "paul",  "rosa",  "simon",  "tina", "uwe",
    "vera", "walter", "xenia", "yusuf", "zoe",   "li",    "wei",   "fang",   "jun",  "mei",
    "hao",  "ying",   "tao",   "lin",   "chen",  "omar",  "sara",  "tom",    "emma", "lucas",
    "mia",  "noah",   "leah",  "jan",   "petra", "ralf",  "sven",  "ulrike", "nina", "igor"};
const char* const kLast[] = {
    "berg",    "wagner", "fischer", "weber",   "meyer",  "schulz", "koch",   "bauer",
    "richter", "klein",  "wolf",    "neumann", "braun",  "zimmer", "krause", "hartmann",
    "lange",   "werner", "wang",    "zhang",   "liu",    "chen",   "yang",   "huang",
    "zhao",    "zhou",   "wu",      "xu",      "sun",    "ma",     "zhu",    "hu",
    "guo",     "he",     "lin",     "gao",     "smith",  "jones",  "brown",  "taylor",
    "wilson",  "evans",  "thomas",  "roberts", "walker", "wright", "green",  "hall"};

struct Address {
  std::string address;  // bare: first.last@domain
  std::string display;  // "Anna Berg"
};

class Corpus {
 public:
  Corpus() : word_zipf_(kWords, 1.0), han_char_zipf_(kHanChars, 1.0), han_zipf_(kHanWords, 1.0) {
    Random r(kSeed);
    // Words: one to four syllables; shorter words get the frequent ranks (with some jitter),
    // as in English.
    static const char* const kOnsets[] = {"b",  "c",  "d",  "f",  "g",  "h",  "j",  "k",  "l",
                                          "m",  "n",  "p",  "r",  "s",  "t",  "v",  "w",  "z",
                                          "br", "cl", "cr", "dr", "fl", "gr", "pl", "pr", "sh",
                                          "sl", "st", "tr", "th", "ch", "",   "",   "qu", "sp"};
    static const char* const kVowels[] = {"a",  "e",  "i",  "o", "u", "ai", "ea", "ee",
                                          "oo", "ou", "io", "a", "e", "i",  "o"};
    static const char* const kCodas[] = {"",  "",  "",   "",   "n",  "r",  "s",  "t",
                                         "l", "m", "nd", "st", "ck", "rt", "ng", "x"};
    std::set<std::string> seen;
    std::vector<std::pair<double, std::string>> keyed;
    while (keyed.size() < kWords) {
      uint64_t u = r.Uniform(100);
      int syllables = u < 22 ? 1 : u < 62 ? 2 : u < 88 ? 3 : 4;
      std::string w;
      for (int i = 0; i < syllables; ++i) {
        w += kOnsets[r.Uniform(sizeof kOnsets / sizeof *kOnsets)];
        w += kVowels[r.Uniform(sizeof kVowels / sizeof *kVowels)];
        w += kCodas[r.Uniform(sizeof kCodas / sizeof *kCodas)];
      }
      if (w.size() < 2 || w.size() > 20 || !seen.insert(w).second) continue;
      keyed.emplace_back(w.size() + 4 * r.Unit(), w);
    }
    std::stable_sort(keyed.begin(), keyed.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& k : keyed) words_.push_back(std::move(k.second));
    // Han characters: 3,500 distinct ones of the CJK Unified Ideographs block, in a random
    // frequency order; words of one to four of them (mostly two), drawn by character
    // frequency, so that bigrams inside words are frequent and bigrams across words spread.
    std::set<uint32_t> chars;
    while (han_chars_.size() < kHanChars) {
      uint32_t cp = 0x4E00 + static_cast<uint32_t>(r.Uniform(0x9FA5 - 0x4E00 + 1));
      if (chars.insert(cp).second) han_chars_.push_back(Utf8(cp));
    }
    std::set<std::string> han_seen;
    std::vector<std::pair<double, std::string>> han_keyed;
    while (han_keyed.size() < kHanWords) {
      uint64_t u = r.Uniform(100);
      int len = u < 8 ? 1 : u < 80 ? 2 : u < 92 ? 3 : 4;
      std::string w;
      for (int i = 0; i < len; ++i) w += han_chars_[han_char_zipf_.Draw(&r)];
      if (!han_seen.insert(w).second) continue;
      han_keyed.emplace_back(len + 2 * r.Unit(), w);
    }
    std::stable_sort(han_keyed.begin(), han_keyed.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& k : han_keyed) han_words_.push_back(std::move(k.second));
    // Addresses: 1,500 in sales, 1,000 in research, 2,500 outside at 300 client domains.
    std::set<std::string> used;
    auto make = [&](const std::string& domain) {
      while (true) {
        std::string first = kFirst[r.Uniform(sizeof kFirst / sizeof *kFirst)];
        std::string last = kLast[r.Uniform(sizeof kLast / sizeof *kLast)];
        std::string local = first + "." + last;
        if (used.count(local + "@" + domain)) local += std::to_string(2 + r.Uniform(8));
        if (!used.insert(local + "@" + domain).second) continue;
        std::string display = first + " " + last;
        display[0] = static_cast<char>(std::toupper(display[0]));
        display[first.size() + 1] = static_cast<char>(std::toupper(display[first.size() + 1]));
        return Address{local + "@" + domain, display};
      }
    };
    for (int i = 0; i < 1500; ++i) sales_.push_back(make("sales.bank.example"));
    for (int i = 0; i < 1000; ++i) research_.push_back(make("research.bank.example"));
    for (int i = 0; i < 2500; ++i) {
      outside_.push_back(make("client" + std::to_string(r.Uniform(300)) + ".example"));
    }
  }

  const std::vector<std::string>& words() const { return words_; }
  const std::vector<std::string>& han_words() const { return han_words_; }
  const std::vector<Address>& sales() const { return sales_; }
  const std::vector<Address>& research() const { return research_; }
  const std::vector<Address>& outside() const { return outside_; }
  const Zipf& word_zipf() const { return word_zipf_; }

  const std::string& Word(Random* r) const { return words_[word_zipf_.Draw(r)]; }
  const std::string& HanWord(Random* r) const { return han_words_[han_zipf_.Draw(r)]; }

  // An English paragraph of `n` words: sentences of 6-16 words (the first capitalised),
  // commas, a number now and then, lines wrapped at 72 columns (CRLF). When `pair` is not
  // null it receives two adjacent words of the paragraph (a phrase that occurs).
  std::string English(Random* r, size_t n, const std::string& quote, std::string* pair) const {
    std::vector<std::string> w;
    for (size_t i = 0; i < n; ++i) {
      w.push_back(r->Uniform(50) == 0 ? std::to_string(r->Uniform(100000)) : Word(r));
    }
    if (pair != nullptr && n >= 2) {
      for (int attempt = 0; attempt < 8 && pair->empty(); ++attempt) {
        size_t i = r->Uniform(n - 1);
        if (std::isalpha(static_cast<unsigned char>(w[i][0])) &&
            std::isalpha(static_cast<unsigned char>(w[i + 1][0]))) {
          *pair = w[i] + " " + w[i + 1];
        }
      }
    }
    std::string out, line;
    size_t sentence = 0, sentence_len = 6 + r->Uniform(11);
    for (size_t i = 0; i < n; ++i) {
      std::string word = w[i];
      if (sentence == 0) word[0] = static_cast<char>(std::toupper(word[0]));
      if (++sentence == sentence_len || i + 1 == n) {
        word += ".";
        sentence = 0;
        sentence_len = 6 + r->Uniform(11);
      } else if (r->Uniform(12) == 0) {
        word += ",";
      }
      if (!line.empty() && line.size() + word.size() + 1 > 72) {
        out += quote + line + "\r\n";
        line.clear();
      }
      line += (line.empty() ? "" : " ") + word;
    }
    if (!line.empty()) out += quote + line + "\r\n";
    return out;
  }

  // A Chinese paragraph of `n` words, without spaces, a comma every few words, a full stop
  // at the end; one line (as mail clients send it, format=flowed or not).
  std::string Chinese(Random* r, size_t n, const std::string& quote) const {
    std::string out = quote;
    for (size_t i = 0; i < n; ++i) {
      out += HanWord(r);
      if (i + 1 == n) {
        out += "\xE3\x80\x82";  // 。
      } else if (r->Uniform(7) == 0) {
        out += "\xEF\xBC\x8C";  // ，
      }
    }
    return out + "\r\n";
  }

 private:
  std::vector<std::string> words_, han_chars_, han_words_;
  Zipf word_zipf_, han_char_zipf_, han_zipf_;
  std::vector<Address> sales_, research_, outside_;
};

std::string Mailbox(const Address& a) { return "\"" + a.display + "\" <" + a.address + ">"; }

std::string Alnum(Random* r, size_t n) {
  static const char kAlnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(kAlnum[r->Uniform(62)]);
  return s;
}

// Who a message is from and to, and its departments (sorted): sales only 56%, both 8%,
// research only 36%.
struct Parties {
  Address from;
  std::vector<Address> to;
  std::vector<std::string> departments;
};

Parties MakeParties(const Corpus& c, Random* r) {
  Parties p;
  double u = r->Unit();
  bool sales = u < 0.64, research = u >= 0.56;
  const auto& own = sales ? c.sales() : c.research();
  p.from = own[r->Uniform(own.size())];
  size_t outside = 1 + r->Uniform(3);
  for (size_t i = 0; i < outside; ++i) p.to.push_back(c.outside()[r->Uniform(c.outside().size())]);
  if (sales && research) p.to.push_back(c.research()[r->Uniform(c.research().size())]);
  if (r->Uniform(10) < 3) p.to.push_back(own[r->Uniform(own.size())]);
  if (research) p.departments.push_back("research");
  if (sales) p.departments.push_back("sales");
  return p;
}

// One message of the big journal: a small plaintext message (From, To, Subject, Message-ID,
// Date; a text/plain body of 150-300 words, about a fifth of them Chinese), a function of n
// alone, so that --reuse can find the phrases that occur.
struct Synthetic {
  std::string bytes;
  std::string mail_from;
  std::vector<std::string> rcpt_to;
  std::vector<std::string> departments;
  std::string phrase;  // two adjacent English words of the body ("" when none)
};

Synthetic MakeSynthetic(const Corpus& c, uint64_t n) {
  Random r(kSeed * 7919 + n);
  Synthetic m;
  Parties p = MakeParties(c, &r);
  m.mail_from = p.from.address;
  for (const Address& a : p.to) m.rcpt_to.push_back(a.address);
  m.departments = p.departments;
  std::string to;
  for (const Address& a : p.to) to += (to.empty() ? "" : ",\r\n ") + Mailbox(a);
  std::string subject = r.Uniform(10) < 3 ? "Re: " : "";
  for (size_t i = 0, k = 3 + r.Uniform(6); i < k; ++i) subject += (i ? " " : "") + c.Word(&r);
  std::string& b = m.bytes;
  b = "From: " + Mailbox(p.from) + "\r\nTo: " + to + "\r\nSubject: " + subject +
      "\r\nDate: Tue, 14 May 2024 09:10:11 +0000\r\nMessage-ID: <" + Alnum(&r, 20) + "." +
      std::to_string(n) +
      "@bank.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: 8bit\r\n\r\n";
  std::string first = p.to[0].display.substr(0, p.to[0].display.find(' '));
  b += "Dear " + first + ",\r\n\r\n";
  size_t words = 150 + r.Uniform(151);
  for (size_t written = 0; written < words;) {
    size_t n_para = std::min<size_t>(words - written, 20 + r.Uniform(41));
    if (r.Unit() < 0.2) {
      b += c.Chinese(&r, n_para, "");
    } else {
      b += c.English(&r, n_para, "", m.phrase.empty() ? &m.phrase : nullptr);
    }
    b += "\r\n";
    written += n_para;
  }
  b += "Best regards\r\n" + p.from.display + "\r\n";
  return m;
}

// ---------------------------------------------------------------------------------------
// Realistic MIME messages (about 30 KB): quoted-printable text, base64 HTML, attachments,
// GB18030 Chinese bodies, RFC 2047 subjects and RFC 2231 file names.

std::string Base64(std::string_view in) {
  static const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t col = 0;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<uint8_t>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<uint8_t>(in[i + 2]);
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kB64[(v >> 6) & 63] : '=');
    out.push_back(i + 2 < in.size() ? kB64[v & 63] : '=');
    if ((col += 4) == 76) {
      out += "\r\n";
      col = 0;
    }
  }
  if (col) out += "\r\n";
  return out;
}

std::string Base64Word(std::string_view in) {  // one line, for RFC 2047
  std::string b = Base64(in);
  b.erase(std::remove_if(b.begin(), b.end(), [](char ch) { return ch == '\r' || ch == '\n'; }),
          b.end());
  return b;
}

// Quoted-printable (RFC 2045) of text with CRLF line ends.
std::string QuotedPrintable(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out, line;
  auto flush_line = [&](bool hard) {
    out += line + (hard ? "\r\n" : "=\r\n");
    line.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char ch = static_cast<unsigned char>(text[i]);
    if (ch == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      if (!line.empty() && (line.back() == ' ' || line.back() == '\t')) {
        char last = line.back();
        line.pop_back();
        line += std::string("=") + kHex[last >> 4] + kHex[last & 15];
      }
      flush_line(true);
      ++i;
      continue;
    }
    std::string enc;
    if ((ch >= 33 && ch <= 126 && ch != '=') || ch == ' ' || ch == '\t') {
      enc = std::string(1, static_cast<char>(ch));
    } else {
      enc = std::string("=") + kHex[ch >> 4] + kHex[ch & 15];
    }
    if (line.size() + enc.size() > 75) flush_line(false);
    line += enc;
  }
  if (!line.empty()) flush_line(true);
  return out;
}

std::string Convert(const std::string& utf8, const char* charset) {
  iconv_t cd = iconv_open(charset, "UTF-8");
  if (cd == reinterpret_cast<iconv_t>(-1))
    Die(std::string("iconv_open ") + charset, Status::Internal("no converter"));
  std::string out(utf8.size() * 2 + 16, '\0');
  char* in = const_cast<char*>(utf8.data());
  size_t in_left = utf8.size(), out_left = out.size();
  char* o = &out[0];
  if (iconv(cd, &in, &in_left, &o, &out_left) == static_cast<size_t>(-1)) {
    Die(std::string("iconv to ") + charset, Status::Internal(std::strerror(errno)));
  }
  iconv_close(cd);
  out.resize(out.size() - out_left);
  return out;
}

std::string PercentEncode(const std::string& s) {  // RFC 2231 value
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '.' || ch == '-' || ch == '_') {
      out.push_back(static_cast<char>(ch));
    } else {
      out += std::string("%") + kHex[ch >> 4] + kHex[ch & 15];
    }
  }
  return out;
}

struct MimeMessage {
  bench::MailMessage mail;  // headers and body as the MTA hands them to the milter
  std::string bytes;        // the message as captured
  std::string mail_from;
  std::vector<std::string> rcpt_to;
  bool chinese = false;
};

MimeMessage MakeMimeMessage(const Corpus& c, uint64_t n) {
  Random r(kSeed * 104729 + n);
  MimeMessage m;
  Parties p = MakeParties(c, &r);
  m.mail_from = p.from.address;
  for (const Address& a : p.to) m.rcpt_to.push_back(a.address);
  m.chinese = r.Uniform(5) == 0;
  auto& h = m.mail.headers;
  std::string id = Alnum(&r, 12);
  h.push_back(
      {"Received", " from mx" + std::to_string(n % 8) + ".bank.example (mx.bank.example [192.0.2." +
                       std::to_string(1 + n % 250) +
                       "])\n\tby gw.bank.example (Postfix) with ESMTPS id " + id + "\n\tfor <" +
                       p.to[0].address + ">; Tue, 14 May 2024 09:10:12 +0200 (CEST)"});
  h.push_back({"Received", " from [10.1." + std::to_string(n % 200) +
                               ".7] (unknown [10.1.0.1])\n\tby mx.bank.example (Postfix) with "
                               "ESMTPSA id " +
                               Alnum(&r, 12)});
  h.push_back({"DKIM-Signature",
               " v=1; a=rsa-sha256; c=relaxed/relaxed; d=bank.example;\n\t"
               "s=sel2024; t=1715672000; bh=" +
                   Alnum(&r, 43) +
                   "=;\n\th=From:To:Subject:Date:Message-ID;\n\tb=" + Alnum(&r, 64) + "\n\t " +
                   Alnum(&r, 64) + "\n\t " + Alnum(&r, 64) + "\n\t " + Alnum(&r, 44)});
  h.push_back({"From", " " + Mailbox(p.from)});
  std::string to;
  for (size_t i = 0; i < p.to.size(); ++i) to += (i ? ",\n " : " ") + Mailbox(p.to[i]);
  h.push_back({"To", to});
  if (r.Uniform(3) == 0) {
    h.push_back({"Cc", " " + Mailbox(c.outside()[r.Uniform(c.outside().size())])});
  }
  std::string subject;
  if (m.chinese) {
    std::string zh;
    for (size_t i = 0, k = 4 + r.Uniform(5); i < k; ++i) zh += c.HanWord(&r);
    subject = " =?GB18030?B?" + Base64Word(Convert(zh, "GB18030")) + "?=";
  } else {
    subject = r.Uniform(10) < 3 ? " Re:" : "";
    for (size_t i = 0, k = 3 + r.Uniform(6); i < k; ++i) subject += " " + c.Word(&r);
  }
  h.push_back({"Subject", subject});
  h.push_back({"Date", " Tue, 14 May 2024 09:10:11 +0200"});
  h.push_back({"Message-ID", " <" + Alnum(&r, 20) + "." + std::to_string(n) + "@bank.example>"});
  h.push_back({"MIME-Version", " 1.0"});
  std::string outer = "b1_" + Alnum(&r, 24), inner = "b2_" + Alnum(&r, 24);
  h.push_back({"Content-Type", " multipart/mixed;\n\tboundary=\"" + outer + "\""});

  // The text: a new part (120-300 words) and the quoted thread below it (300-800 words).
  std::vector<std::string> paragraphs, quoted;
  auto paragraph = [&](const std::string& quote) {
    size_t k = 20 + r.Uniform(41);
    return (m.chinese && r.Uniform(10) < 7) ? c.Chinese(&r, k, quote)
                                            : c.English(&r, k, quote, nullptr);
  };
  for (size_t w = 0, total = 150 + r.Uniform(201); w < total; w += 40)
    paragraphs.push_back(paragraph(""));
  for (size_t w = 0, total = 400 + r.Uniform(601); w < total; w += 40)
    quoted.push_back(paragraph("> "));
  std::string first = p.to[0].display.substr(0, p.to[0].display.find(' '));
  std::string plain = "Dear " + first + ",\r\n\r\n";
  for (const auto& para : paragraphs) plain += para + "\r\n";
  plain += "Best regards\r\n" + p.from.display + "\r\n\r\nOn Mon, 13 May 2024, " +
           Mailbox(p.to[0]) + " wrote:\r\n";
  for (const auto& para : quoted) plain += para + "> \r\n";
  std::string html =
      "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">"
      "<style type=\"text/css\">p{margin:0;font-family:Calibri,Arial,sans-serif;font-size:11pt}"
      "blockquote{border-left:1px solid #ccc;padding-left:8px}</style></head>\r\n"
      "<body><div dir=\"ltr\"><p>Dear " +
      first + ",</p>\r\n";
  for (const auto& para : paragraphs) {
    html += "<p>" + para +
            (r.Uniform(4) == 0 ? " <b>see <a href=\"https://portal.bank.example/d/" +
                                     Alnum(&r, 10) + "\">the portal</a></b>"
                               : "") +
            "</p>\r\n";
  }
  html += "<p>Best regards<br>" + p.from.display + "</p></div>\r\n<blockquote>\r\n";
  for (const auto& para : quoted) html += "<p>" + para + "</p>\r\n";
  html += "</blockquote></body></html>\r\n";

  std::string& b = m.mail.body;
  b = "This is a multi-part message in MIME format.\r\n\r\n--" + outer +
      "\r\nContent-Type: multipart/alternative; boundary=\"" + inner + "\"\r\n\r\n--" + inner +
      "\r\n";
  if (m.chinese) {
    b += "Content-Type: text/plain; charset=\"GB18030\"\r\nContent-Transfer-Encoding: "
         "base64\r\n\r\n" +
         Base64(Convert(plain, "GB18030"));
  } else {
    b += "Content-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: "
         "quoted-printable\r\n\r\n" +
         QuotedPrintable(plain);
  }
  b += "\r\n--" + inner +
       "\r\nContent-Type: text/html; charset=\"utf-8\"\r\nContent-Transfer-Encoding: "
       "base64\r\n\r\n" +
       Base64(html) + "\r\n--" + inner + "--\r\n";
  if (r.Uniform(2) == 0) {  // a PDF
    std::string pdf(10000 + r.Uniform(8000), '\0');
    for (auto& ch : pdf) ch = static_cast<char>(r.Next());
    std::string disposition;
    if (m.chinese) {
      std::string name = c.HanWord(&r) + c.HanWord(&r) + "-" + std::to_string(2024) + ".pdf";
      disposition = "attachment;\r\n filename*=UTF-8''" + PercentEncode(name);
    } else {
      disposition = "attachment;\r\n filename=\"" + c.Word(&r) + "-" + c.Word(&r) + "-Q" +
                    std::to_string(1 + r.Uniform(4)) + ".pdf\"";
    }
    b += "\r\n--" + outer +
         "\r\nContent-Type: application/pdf\r\nContent-Disposition: " + disposition +
         "\r\nContent-Transfer-Encoding: base64\r\n\r\n" + Base64(pdf);
  }
  if (r.Uniform(10) == 0) {  // a CSV
    std::string csv = "date,account,amount,reference\r\n";
    for (int i = 0; i < 40; ++i) {
      csv += "2024-05-" + std::to_string(10 + i % 20) + "," + std::to_string(r.Uniform(1000000)) +
             "," + std::to_string(r.Uniform(100000)) + ".00," + c.Word(&r) + "\r\n";
    }
    b += "\r\n--" + outer +
         "\r\nContent-Type: text/csv; charset=\"utf-8\"; name=\"positions.csv\"\r\n"
         "Content-Disposition: attachment; filename=\"positions.csv\"\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\n" +
         Base64(csv);
  }
  b += "\r\n--" + outer + "--\r\n";
  for (const auto& kv : h) m.bytes += bench::HeaderLine(kv.first, kv.second);
  m.bytes += "\r\n" + b;
  m.mail.size = m.bytes.size();
  return m;
}

// ---------------------------------------------------------------------------------------
// Keys: index keys (IndexKeyStore in DIR/keys) and RSA-3072 recipient certificates.

std::vector<IndexKey> DepartmentKeys(IndexKeyStore* store, const std::vector<std::string>& depts) {
  std::vector<IndexKey> keys;
  for (const std::string& d : depts) {
    std::vector<IndexKey> k;
    Status s = store->Keys(d, true, &k);
    if (!s.ok()) Die("index key of " + d, s);
    keys.push_back(k.front());
  }
  return keys;
}

// A self-signed RSA-3072 certificate (PEM), made with OpenSSL's API.
std::string MakeCertificate(const std::string& name) {
  EVP_PKEY* key = EVP_RSA_gen(3072);
  X509* x = X509_new();
  if (key == nullptr || x == nullptr) Die("RSA key", Status::Internal("EVP_RSA_gen failed"));
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 86400);
  X509_set_pubkey(x, key);
  X509_NAME* subject = X509_get_subject_name(x);
  std::string cn = name + "-search-bench";
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, subject);
  if (X509_sign(x, key, EVP_sha256()) == 0) Die("certificate", Status::Internal("X509_sign"));
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, len);
  BIO_free(bio);
  X509_free(x);
  EVP_PKEY_free(key);
  return pem;
}

// DIR/seal/{sales,research,escrow}.crt (made once) and the policy that seals to them.
std::string SealSetup(const std::string& dir, std::map<std::string, std::string>* pems) {
  std::string sdir = dir + "/seal";
  std::filesystem::create_directories(sdir);
  for (const char* name : {"sales", "research", "escrow"}) {
    std::string path = sdir + "/" + name + ".crt";
    std::string pem = bench::ReadFile(path);
    if (pem.empty()) {
      pem = MakeCertificate(name);
      std::ofstream(path) << pem;
    }
    (*pems)[name] = pem;
  }
  std::string policy = sdir + "/policy.yaml";
  std::ofstream out(policy, std::ios::trunc);
  out << "version: 1\n"
         "retention:\n"
         "  standard-7y: 7y\n"
         "escrow: [escrow.crt]\n"
         "departments:\n"
         "  - name: sales\n"
         "    members: ['@sales.bank.example']\n"
         "    retention: standard-7y\n"
         "    keys: [sales.crt]\n"
         "  - name: research\n"
         "    members: ['@research.bank.example']\n"
         "    retention: standard-7y\n"
         "    keys: [research.crt]\n"
         "  - name: default\n"
         "    retention: standard-7y\n"
         "    index: false\n";
  if (!out.flush()) Die("writing " + policy, Status::IOError("write failed"));
  return policy;
}

// ---------------------------------------------------------------------------------------
// Phase 1: what indexing costs per message, against sealing (one thread, CPU time).

struct Piece {
  std::string name;
  std::vector<double> us;
};

void PrintPiece(const Piece& p) {
  Stats s = StatsOf(p.us);
  std::printf("  %-62s mean %8.1f  p50 %8.1f  p99 %8.1f us\n", p.name.c_str(), s.mean, s.p50,
              s.p99);
}

template <typename F>
Piece TimePiece(const std::string& name, size_t count, const F& f) {
  Piece p{name, {}};
  for (size_t i = 0; i < std::min<size_t>(count, 20); ++i) f(i);  // warm
  for (size_t i = 0; i < count; ++i) {
    double t0 = ThreadCpu();
    f(i);
    p.us.push_back((ThreadCpu() - t0) * 1e6);
  }
  PrintPiece(p);
  std::fflush(stdout);
  return p;
}

double Mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / v.size();
}

struct CostFigures {
  double index1 = 0, index2 = 0, seal1 = 0, seal2 = 0;  // mean CPU us per message
};

std::vector<MimeMessage> MakeSample(const Options& o, const Corpus& corpus) {
  std::vector<MimeMessage> sample;
  for (uint64_t i = 0; i < o.sample; ++i) sample.push_back(MakeMimeMessage(corpus, i));
  return sample;
}

CostFigures Components(const Options& o, const Corpus& corpus, IndexKeyStore* keys,
                       const std::map<std::string, std::string>& pems,
                       const std::vector<MimeMessage>* sample) {
  std::vector<IndexKey> two = DepartmentKeys(keys, {"research", "sales"});
  std::vector<IndexKey> one{two[1]};
  RecipientKeys seal1(1), seal2(2);
  if (!RecipientKey::Parse(pems.at("escrow"), &seal1[0]).ok() ||
      !RecipientKey::Parse(pems.at("sales"), &seal2[0]).ok()) {
    Die("parsing the certificates", Status::InvalidArgument("bad certificate"));
  }
  seal2[1] = seal1[0];
  uint64_t bytes = 0, chinese = 0, attachments = 0;
  for (const auto& m : *sample) {
    bytes += m.bytes.size();
    chinese += m.chinese;
    attachments += m.bytes.find("Content-Disposition: attachment") != std::string::npos;
  }
  const auto& s = *sample;
  const size_t n = s.size();
  std::printf(
      "\n== indexing cost in the commit path: %zu realistic MIME messages, mean %.0f bytes "
      "(%.0f%% Chinese in GB18030 with RFC 2047 subjects, %.0f%% with attachments; text/plain "
      "quoted-printable or base64, text/html base64), one thread, CPU time per message\n",
      n, static_cast<double>(bytes) / n, 100.0 * chinese / n, 100.0 * attachments / n);
  volatile size_t sink = 0;
  std::vector<ExtractedText> texts(n);
  std::vector<TokenFields> tokens(n);
  Piece extract = TimePiece("ExtractText (GMime, iconv, libxml2 HTML)", n,
                            [&](size_t i) { texts[i] = ExtractText(s[i].bytes); });
  Piece collect =
      TimePiece("BuildDocument + CollectTokens (ICU tokenize, per field)", n, [&](size_t i) {
        tokens[i] = CollectTokens(BuildDocument(texts[i], {s[i].mail_from}, s[i].rcpt_to));
      });
  Piece hash = TimePiece("HashTokens, 1 key (HMAC-SHA-256 per distinct token)", n, [&](size_t i) {
    sink = sink + HashTokens(tokens[i], one[0]).terms.size();
  });
  Piece whole1 = TimePiece("IndexMessage, 1 department (the whole path)", n, [&](size_t i) {
    sink = sink + IndexMessage(s[i].bytes, {s[i].mail_from}, s[i].rcpt_to, one, nullptr).size();
  });
  Piece whole2 = TimePiece("IndexMessage, 2 departments", n, [&](size_t i) {
    sink = sink + IndexMessage(s[i].bytes, {s[i].mail_from}, s[i].rcpt_to, two, nullptr).size();
  });
  auto seal = [&](const RecipientKeys& recipients, size_t i) {
    std::unique_ptr<Sealer> sealer;
    Status st = Sealer::Create(recipients, &sealer);
    for (size_t off = 0; st.ok() && off < s[i].bytes.size(); off += 65535) {
      st = sealer->Append(std::string_view(s[i].bytes).substr(off, 65535));
      if (st.ok()) sink = sink + sealer->Take().size();
    }
    if (st.ok()) st = sealer->Finish();
    if (!st.ok()) Die("sealing", st);
    sink = sink + sealer->Take().size();
  };
  Piece sealed1 = TimePiece("seal, 1 recipient (Sealer: zstd-3, AES-256-GCM, 1 RSA-OAEP)", n,
                            [&](size_t i) { seal(seal1, i); });
  Piece sealed2 = TimePiece("seal, 2 recipients (department + escrow, as the daemon)", n,
                            [&](size_t i) { seal(seal2, i); });
  double distinct = 0, text_bytes = 0;
  for (size_t i = 0; i < n; ++i) {
    distinct += tokens[i].size();
    for (const auto* field : {&texts[i].subject, &texts[i].body}) {
      for (const auto& v : *field) text_bytes += v.size();
    }
  }
  std::printf(
      "  per message: %.0f distinct tokens (one 9-byte 't' record entry each per key), "
      "%.0f bytes of extracted subject + body text\n",
      distinct / n, text_bytes / n);
  CostFigures f;
  f.index1 = Mean(whole1.us);
  f.index2 = Mean(whole2.us);
  f.seal1 = Mean(sealed1.us);
  f.seal2 = Mean(sealed2.us);
  std::printf(
      "  => IndexMessage / sealing (2 recipients), means: %.2f (1 department), %.2f (2 "
      "departments); extract %.0f%%, tokens %.0f%%, hash %.0f%% of IndexMessage (1 "
      "department)\n",
      f.index1 / f.seal2, f.index2 / f.seal2, 100 * Mean(extract.us) / f.index1,
      100 * Mean(collect.us) / f.index1, 100 * Mean(hash.us) / f.index1);

  // The small messages of the big journal, for scale.
  std::vector<Synthetic> small;
  for (uint64_t i = 0; i < std::min<uint64_t>(o.sample, 2000); ++i) {
    small.push_back(MakeSynthetic(corpus, 1000000000 + i));
  }
  double small_bytes = 0;
  for (const auto& m : small) small_bytes += m.bytes.size();
  std::printf("  the small messages of the big journal (mean %.0f bytes), for scale:\n",
              small_bytes / small.size());
  TimePiece("  IndexMessage, 1 department", small.size(), [&](size_t i) {
    sink =
        sink +
        IndexMessage(small[i].bytes, {small[i].mail_from}, small[i].rcpt_to, one, nullptr).size();
  });
  TimePiece("  IndexMessage, 2 departments", small.size(), [&](size_t i) {
    sink =
        sink +
        IndexMessage(small[i].bytes, {small[i].mail_from}, small[i].rcpt_to, two, nullptr).size();
  });
  return f;
}

// ---------------------------------------------------------------------------------------
// Phase 2: the daemon's capture path (Session: classify, seal, index, group commit), with and
// without indexing.

struct CommitRun {
  bool indexed = false;
  uint64_t messages = 0;
  double seconds = 0, cpu = 0;
  Stats eom_ms;
  uint64_t notes = 0;    // messages with an index note (something not indexed)
  uint64_t written = 0;  // bytes this process caused to be written to disk during the run
  uint64_t stored = 0;   // content bytes stored (sealed)
  double rate() const { return messages / seconds; }
  double cpu_us() const { return cpu / messages * 1e6; }
};

void Sizes(const std::string& jdir, uint64_t messages, uint64_t content_bytes,
           const std::string& what);

// `keep`: leave the journal (DIR/commit-journal) for the caller to measure and remove.
CommitRun RunCommitPath(const Options& o, const std::string& policy_path,
                        const std::vector<MimeMessage>& pool, bool indexed, int index, bool keep) {
  std::string jdir = o.dir + "/commit-journal", kdir = o.dir + "/commit-keys";
  RemoveAll(jdir);
  RemoveAll(kdir);
  JournalOptions jo;
  jo.dir = jdir;
  std::unique_ptr<Journal> journal;
  Status s = OpenJournal(jo, &journal);
  if (!s.ok()) Die("opening " + jdir, s);
  PolicyHolder policies(policy_path, journal.get());
  std::vector<PolicyError> errors;
  uint64_t seq = 0;
  s = policies.Load(kProgram, &errors, &seq);
  if (!s.ok()) {
    Die("loading " + policy_path,
        errors.empty() ? s : Status::InvalidArgument(errors[0].ToString()));
  }
  IndexKeyStore keys(kdir);
  std::vector<std::vector<double>> latencies(o.commit_threads);
  std::atomic<uint64_t> next{0}, notes{0}, stored{0};
  std::atomic<bool> failed{false};
  bench::StartGate gate(o.commit_threads);
  std::vector<std::thread> threads;
  for (int t = 0; t < o.commit_threads; ++t) {
    threads.emplace_back([&, t] {
      Session session(journal.get(), &policies, indexed ? &keys : nullptr);
      gate.Arrive();
      for (uint64_t n; !failed && (n = next++) < o.commit_messages;) {
        const MimeMessage& m = pool[(n + index * 7919) % pool.size()];
        struct sockaddr_in addr = {};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<uint16_t>(30000 + n % 30000));
        addr.sin_addr.s_addr = htonl(0xC0000200u + 1 + n % 250);
        session.Connect("mx" + std::to_string(n % 8) + ".bank.example",
                        reinterpret_cast<struct sockaddr*>(&addr), "smtpd");
        session.Helo("mx.bank.example");
        Status st = session.MailFrom(
            {"<" + m.mail_from + ">", "SIZE=" + std::to_string(m.bytes.size()), "BODY=8BITMIME"},
            "");
        for (const auto& rc : m.rcpt_to) session.Rcpt({"<" + rc + ">"});
        for (const auto& kv : m.mail.headers) {
          if (st.ok()) st = session.Header(kv.first, kv.second);
        }
        if (st.ok()) st = session.EndOfHeaders();
        for (size_t off = 0; st.ok() && off < m.mail.body.size(); off += 65535) {
          st = session.Body(std::string_view(m.mail.body).substr(off, 65535));
        }
        session.QueueId("4V" + std::to_string(n));
        MessageEntry e;
        double t0 = Now();
        if (st.ok()) st = session.EndOfMessage(&seq, &e);
        latencies[t].push_back((Now() - t0) * 1e3);
        stored += e.content.size;
        if (!session.index_note().empty()) ++notes;
        if (!st.ok()) {
          failed = true;
          std::fprintf(stderr, "%s: message %" PRIu64 ": %s\n", kProgram, n, st.ToString().c_str());
        }
      }
    });
  }
  gate.WaitReady();
  const double c0 = CpuSeconds(), t0 = Now();
  const uint64_t w0 = bench::SampleMachine("").own_written;
  gate.Open();
  for (auto& th : threads) th.join();
  CommitRun run;
  run.indexed = indexed;
  run.seconds = Now() - t0;
  run.cpu = CpuSeconds() - c0;
  run.written = bench::SampleMachine("").own_written - w0;
  if (failed) std::exit(1);
  std::vector<double> all;
  for (const auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  run.messages = all.size();
  run.eom_ms = StatsOf(all);
  run.notes = notes;
  run.stored = stored;
  journal.reset();
  if (!keep) RemoveAll(jdir);
  RemoveAll(kdir);
  return run;
}

void CommitPath(const Options& o, const std::string& policy_path,
                const std::vector<MimeMessage>& pool, const CostFigures& cost) {
  std::printf(
      "\n== commit path (milter Session: classify, seal to department + escrow RSA-3072, "
      "MessageWriter, index, synced group commit): %d threads, %" PRIu64
      " messages per run from the %zu MIME messages above, %d runs each, alternating, fresh "
      "journal per run\n",
      o.commit_threads, o.commit_messages, pool.size(), o.runs);
  std::vector<CommitRun> plain, indexed;
  for (int i = 0; i < 2 * o.runs; ++i) {
    bool with = i % 2 == 1;
    CommitRun r = RunCommitPath(o, policy_path, pool, with, i, i == 2 * o.runs - 1);
    std::printf(
        "  run %d %-11s %7.0f msg/s  %6.2f s  CPU %6.0f us/msg (%.2f cores)  EOM ms p50 "
        "%6.2f p99 %6.2f max %7.2f  disk written %5.1f KB/msg%s\n",
        i / 2 + 1, with ? "indexed" : "not indexed", r.rate(), r.seconds, r.cpu_us(),
        r.cpu / r.seconds, r.eom_ms.p50, r.eom_ms.p99, r.eom_ms.max, r.written / 1e3 / r.messages,
        r.notes ? (" (" + std::to_string(r.notes) + " index notes)").c_str() : "");
    std::fflush(stdout);
    (with ? indexed : plain).push_back(r);
  }
  auto med = [](const std::vector<CommitRun>& v, double (*f)(const CommitRun&)) {
    std::vector<double> x;
    for (const auto& r : v) x.push_back(f(r));
    return bench::Median(x);
  };
  auto rate = [](const CommitRun& r) { return r.rate(); };
  auto cpu = [](const CommitRun& r) { return r.cpu_us(); };
  auto p99 = [](const CommitRun& r) { return r.eom_ms.p99; };
  auto p50 = [](const CommitRun& r) { return r.eom_ms.p50; };
  double pr = med(plain, rate), ir = med(indexed, rate);
  double pc = med(plain, cpu), ic = med(indexed, cpu);
  std::printf(
      "  median: not indexed %.0f msg/s, CPU %.0f us/msg, EOM p50 %.2f p99 %.2f ms; "
      "indexed %.0f msg/s, CPU %.0f us/msg, EOM p50 %.2f p99 %.2f ms\n",
      pr, pc, med(plain, p50), med(plain, p99), ir, ic, med(indexed, p50), med(indexed, p99));
  std::printf("  => throughput indexed / not indexed %.2f; CPU per message +%.0f us (+%.0f%%)",
              ir / pr, ic - pc, 100 * (ic - pc) / pc);
  if (cost.index1 > 0) {
    std::printf(
        "; IndexMessage alone (mean, 1 department) was %.0f us = %.0f%% of the "
        "not-indexed path's CPU per message",
        cost.index1, 100 * cost.index1 / pc);
  }
  std::printf("\n");
  const CommitRun& last = indexed.back();
  Sizes(o.dir + "/commit-journal", last.messages, last.stored,
        "the last indexed commit-path run (realistic messages, sealed; not the big journal)");
  RemoveAll(o.dir + "/commit-journal");
  std::fflush(stdout);
}

// ---------------------------------------------------------------------------------------
// The big journal: N synthetic messages through MessageWriter, with postings.

struct BuildResult {
  uint64_t messages = 0;
  double seconds = 0, cpu = 0, merge_seconds = 0, close_seconds = 0;
  uint64_t content_bytes = 0, plain_bytes = 0, term_sets = 0, terms = 0;
  uint64_t department_count[2] = {0, 0};  // research, sales
  uint64_t written = 0;  // bytes this process caused to be written, build + merge + close
  double rate() const { return messages / seconds; }
};

// A message entry as mailjournald writes it (sealing fields included; the content is random
// bytes standing for the sealed CMS structure).
MessageEntry EntryFor(const Synthetic& m, Random* r, uint64_t n, uint64_t content_size) {
  MessageEntry e;
  Envelope& env = e.envelope;
  env.queue_id = "4V" + Alnum(r, 10);
  env.mail = {"<" + m.mail_from + ">", "SIZE=" + std::to_string(m.bytes.size()), "BODY=8BITMIME"};
  for (const auto& rc : m.rcpt_to) env.rcpt.push_back({"<" + rc + ">"});
  env.client_addr = "192.0.2." + std::to_string(1 + n % 250);
  env.client_port = static_cast<uint16_t>(30000 + n % 30000);
  env.client_name = "mx" + std::to_string(n % 8) + ".bank.example";
  env.helo = env.client_name;
  env.daemon = "smtpd";
  e.classification.departments = m.departments;
  e.classification.retention = "standard-7y";
  e.classification.policy_digest.fill(7);
  e.sealing.sealed = true;
  e.sealing.scheme = kSealSchemeCms1;
  e.sealing.plain_size = m.bytes.size();
  for (auto& b : e.sealing.salt) b = static_cast<uint8_t>(r->Next());
  for (auto& b : e.sealing.plain_digest) b = static_cast<uint8_t>(r->Next());
  for (size_t i = 0; i <= m.departments.size(); ++i) {
    Sha256Digest fp;
    fp.fill(static_cast<uint8_t>(i + 1));
    e.sealing.recipients.push_back(fp);
  }
  (void)content_size;
  return e;
}

// What to build: messages n = 0 .. messages-1 (made by each thread as it goes, or taken
// from `pre`, made before timing) into a new journal at `dir`.
struct BuildSpec {
  std::string dir;
  uint64_t messages = 0;
  enum class Postings { kNone, kIndexOnly, kFull } postings = Postings::kFull;
  bool spread = false;      // commit times spread evenly over kSpanUs, ending a day ago
  bool progress = false;    // print a line every 100,000 messages
  std::string policy_path;  // journaled first when not ""
  const std::vector<Synthetic>* pre = nullptr;
};

// kIndexOnly: IndexMessage runs as for kFull, but its terms are not committed (the cost of
// indexing alone); kNone: no indexing.
BuildResult Build(const Options& o, const Corpus& corpus, IndexKeyStore* keys,
                  const BuildSpec& spec) {
  const std::string& jdir = spec.dir;
  const uint64_t messages = spec.messages;
  const bool index = spec.postings != BuildSpec::Postings::kNone;
  const bool commit_terms = spec.postings == BuildSpec::Postings::kFull;
  const bool spread = spec.spread, progress = spec.progress;
  const std::string& policy_path = spec.policy_path;
  std::vector<IndexKey> key_of[2] = {DepartmentKeys(keys, {"research"}),
                                     DepartmentKeys(keys, {"sales"})};
  std::atomic<uint64_t> started{0};
  JournalOptions jo;
  jo.dir = jdir;
  if (spread) {
    const int64_t base = NowMicros() - kSpanUs - kDayUs;
    const int64_t step = std::max<int64_t>(1, kSpanUs / static_cast<int64_t>(messages));
    jo.clock = [base, step, &started] {
      return base + static_cast<int64_t>(started.load(std::memory_order_relaxed)) * step;
    };
  }
  std::unique_ptr<Journal> journal;
  Status s = OpenJournal(jo, &journal);
  if (!s.ok()) Die("opening " + jdir, s);
  if (!policy_path.empty()) {
    // As the daemon starts: the policy (and its keys) journaled first; the search phase
    // seals each query to it for the access entry.
    PolicyHolder policies(policy_path, journal.get());
    std::vector<PolicyError> errors;
    uint64_t seq = 0;
    s = policies.Load(kProgram, &errors, &seq);
    if (!s.ok()) {
      Die("loading " + policy_path,
          errors.empty() ? s : Status::InvalidArgument(errors[0].ToString()));
    }
  }
  BuildResult res;
  res.messages = messages;
  std::atomic<uint64_t> done{0}, content_bytes{0}, plain_bytes{0}, term_sets{0}, terms{0};
  std::atomic<uint64_t> dept[2] = {{0}, {0}};
  std::atomic<bool> failed{false};
  const double t0 = Now(), c0 = CpuSeconds();
  const uint64_t w0 = bench::SampleMachine("").own_written;
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) {
    threads.emplace_back([&, t] {
      Random rnd(kSeed * 31 + t);
      std::string content;
      for (uint64_t n; !failed && (n = started.fetch_add(1)) < messages;) {
        Synthetic made;
        if (spec.pre == nullptr) made = MakeSynthetic(corpus, n);
        const Synthetic& m = spec.pre != nullptr ? (*spec.pre)[n] : made;
        std::vector<TermSet> sets;
        if (index) {
          std::vector<IndexKey> ks;
          for (const std::string& d : m.departments) ks.push_back(key_of[d == "sales"][0]);
          sets = IndexMessage(m.bytes, {m.mail_from}, m.rcpt_to, ks, nullptr);
          for (const auto& set : sets) terms += set.terms.size();
          term_sets += sets.size();
        }
        for (const std::string& d : m.departments) ++dept[d == "sales"];
        content.resize(2000 + rnd.Uniform(2001));
        for (size_t i = 0; i < content.size(); i += 8) {
          uint64_t v = rnd.Next();
          std::memcpy(&content[i], &v, std::min<size_t>(8, content.size() - i));
        }
        MessageWriter writer(journal.get());
        Status st = writer.Append(content);
        if (commit_terms) writer.SetTerms(std::move(sets));
        uint64_t seq = 0;
        if (st.ok()) {
          st = writer.Commit(
              EntryFor(m, &rnd, n, content.size()),
              [](MessageEntry* e) {
                e->classification.retain_until_us = e->time_us + 7 * 365LL * kDayUs;
              },
              &seq, nullptr);
        }
        if (!st.ok()) {
          failed = true;
          std::fprintf(stderr, "%s: commit: %s\n", kProgram, st.ToString().c_str());
        }
        content_bytes += content.size();
        plain_bytes += m.bytes.size();
        ++done;
      }
    });
  }
  uint64_t next_report = 100000;
  double last_t = t0;
  uint64_t last_n = 0;
  while (progress) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    uint64_t d = done.load();
    if (d >= next_report || d >= messages || failed) {
      double now = Now();
      std::printf(
          "  %9s messages  %7.1f s  %6.0f msg/s (last %s: %6.0f msg/s)  CPU %7.1f s  "
          "db %6.0f MB\n",
          Commas(d).c_str(), now - t0, d / (now - t0), Commas(d - last_n).c_str(),
          (d - last_n) / (now - last_t), CpuSeconds() - c0, DirBytes(jdir + "/db") / 1e6);
      std::fflush(stdout);
      last_t = now;
      last_n = d;
      while (next_report <= d) next_report += 100000;
    }
    if (d >= messages || failed) break;
  }
  for (auto& th : threads) th.join();
  if (failed) std::exit(1);
  res.seconds = Now() - t0;
  double tm = Now();
  if (commit_terms) {
    s = journal->MergePostings();
    if (!s.ok()) Die("merging postings", s);
  }
  res.merge_seconds = Now() - tm;
  tm = Now();
  journal.reset();  // waits for LevelDB's background compaction
  res.close_seconds = Now() - tm;
  res.cpu = CpuSeconds() - c0;
  res.written = bench::SampleMachine("").own_written - w0;
  res.content_bytes = content_bytes;
  res.plain_bytes = plain_bytes;
  res.term_sets = term_sets;
  res.terms = terms;
  res.department_count[0] = dept[0];
  res.department_count[1] = dept[1];
  return res;
}

void PrintBuild(const char* label, const BuildResult& r) {
  std::printf(
      "  %s: %s messages in %.1f s = %.0f msg/s (then merge %.2f s, close %.1f s); CPU "
      "%.1f s = %.0f us/msg (%.2f cores); disk written %.1f KB/msg\n",
      label, Commas(r.messages).c_str(), r.seconds, r.rate(), r.merge_seconds, r.close_seconds,
      r.cpu, r.cpu / r.messages * 1e6, r.cpu / r.seconds, r.written / 1e3 / r.messages);
}

void BuilderCompare(const Options& o, const Corpus& corpus, IndexKeyStore* keys) {
  std::printf(
      "\n== builder with and without postings: %s messages each (the big journal's "
      "messages and path, no sealing; messages made before timing), %d threads, fresh "
      "journal each\n",
      Commas(o.compare_messages).c_str(), o.threads);
  std::vector<Synthetic> pre;
  for (uint64_t n = 0; n < o.compare_messages; ++n) pre.push_back(MakeSynthetic(corpus, n));
  BuildSpec spec;
  spec.dir = o.dir + "/compare-journal";
  spec.messages = o.compare_messages;
  spec.pre = &pre;
  BuildResult r[3];
  const char* labels[3] = {"without postings       ", "IndexMessage, no terms ",
                           "with postings          "};
  const BuildSpec::Postings modes[3] = {BuildSpec::Postings::kNone, BuildSpec::Postings::kIndexOnly,
                                        BuildSpec::Postings::kFull};
  for (int i = 0; i < 3; ++i) {
    RemoveAll(spec.dir);
    spec.postings = modes[i];
    r[i] = Build(o, corpus, keys, spec);
    RemoveAll(spec.dir);
    PrintBuild(labels[i], r[i]);
    std::fflush(stdout);
  }
  auto cpu_us = [&](const BuildResult& b) { return b.cpu / b.messages * 1e6; };
  std::printf(
      "  => throughput with / without postings %.2f; CPU per message +%.0f us, of which "
      "IndexMessage (computed, not committed) +%.0f us and committing, holding and "
      "merging the terms +%.0f us\n",
      r[2].rate() / r[0].rate(), cpu_us(r[2]) - cpu_us(r[0]), cpu_us(r[1]) - cpu_us(r[0]),
      cpu_us(r[2]) - cpu_us(r[1]));
  std::fflush(stdout);
}

// ---------------------------------------------------------------------------------------
// The index's size.

uint64_t FirstVarint(const leveldb::Slice& v) {
  uint64_t x = 0;
  for (size_t i = 0, shift = 0; i < v.size() && shift < 64; ++i, shift += 7) {
    x |= static_cast<uint64_t>(static_cast<uint8_t>(v[i]) & 0x7F) << shift;
    if (!(static_cast<uint8_t>(v[i]) & 0x80)) break;
  }
  return x;
}

void Sizes(const std::string& jdir, uint64_t messages, uint64_t content_bytes,
           const std::string& what) {
  std::printf("\n== index size: %s (%s messages)\n", what.c_str(), Commas(messages).c_str());
  {
    JournalOptions jo;
    jo.dir = jdir;
    jo.create_if_missing = false;
    std::unique_ptr<Journal> journal;
    Status s = OpenJournal(jo, &journal);
    if (!s.ok()) Die("opening " + jdir, s);
    s = journal->MergePostings();
    if (!s.ok()) Die("merging postings", s);
    uint64_t postings = 0, total = 0;
    journal->ApproximateSizes(&postings, &total);
    std::printf(
        "  as built (after a final MergePostings): Journal::ApproximateSizes postings "
        "%.1f MB of %.1f MB = %.1f%%; files under db/ %.1f MB\n",
        postings / 1e6, total / 1e6, 100.0 * postings / total, DirBytes(jdir + "/db") / 1e6);
  }
  // The postings' key ranges compacted, so that no deleted 't' record or superseded block is
  // counted (LevelDB opened directly, the journal closed; the same options as the journal's).
  leveldb::Options opts;
  opts.create_if_missing = false;
  opts.compression = leveldb::kNoCompression;
  opts.write_buffer_size = 4 << 20;
  leveldb::DB* raw = nullptr;
  leveldb::Status ls = leveldb::DB::Open(opts, jdir + "/db", &raw);
  if (!ls.ok()) Die("opening the database", Status::IOError(ls.ToString()));
  std::unique_ptr<leveldb::DB> db(raw);
  double t0 = Now();
  for (const char* range : {"i", "t", "u"}) {
    std::string begin(range), end(1, static_cast<char>(range[0] + 1));
    leveldb::Slice b(begin), e(end);
    db->CompactRange(&b, &e);
  }
  double compact_s = Now() - t0;
  uint64_t blocks = 0, block_bytes = 0, postings = 0, records = 0, record_bytes = 0, terms = 0;
  std::set<std::pair<uint64_t, uint64_t>> distinct_terms_sample;
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
  uint64_t term_count = 0;
  std::string last_term;
  for (it->Seek("i"); it->Valid() && it->key()[0] == 'i'; it->Next()) {
    ++blocks;
    block_bytes += it->key().size() + it->value().size();
    postings += FirstVarint(it->value());
    std::string term(it->key().data(), std::min<size_t>(17, it->key().size()));
    if (term != last_term) {
      ++term_count;
      last_term = term;
    }
  }
  for (it->Seek("t"); it->Valid() && it->key()[0] == 't'; it->Next()) {
    ++records;
    record_bytes += it->key().size() + it->value().size();
    terms += FirstVarint(it->value());
  }
  it.reset();
  leveldb::Range ranges[3] = {{"i", "j"}, {"t", "v"}, {"", "\xff"}};
  uint64_t sizes[3] = {0, 0, 0};
  db->GetApproximateSizes(ranges, 3, sizes);
  db.reset();
  uint64_t on_disk = sizes[0] + sizes[1];
  std::printf(
      "  after compacting the postings' key ranges (%.1f s): postings %.1f MB of %.1f MB "
      "= %.1f%% of the journal; files under db/ %.1f MB\n",
      compact_s, on_disk / 1e6, sizes[2] / 1e6, 100.0 * on_disk / sizes[2],
      DirBytes(jdir + "/db") / 1e6);
  std::printf(
      "  postings: %s blocks ('i' records) of %s distinct (key, term) pairs, %s postings, "
      "%.1f MB of keys + values (%.2f bytes per posting); %s 't' records, each message's "
      "terms kept for segments (%.1f MB, %s terms)\n",
      Commas(blocks).c_str(), Commas(term_count).c_str(), Commas(postings).c_str(),
      block_bytes / 1e6, postings ? static_cast<double>(block_bytes) / postings : 0.0,
      Commas(records).c_str(), record_bytes / 1e6, Commas(terms).c_str());
  std::printf(
      "  per message: %.0f bytes of postings on disk (blocks %.0f, 't' records %.0f), %.0f "
      "postings",
      static_cast<double>(on_disk) / messages, static_cast<double>(sizes[0]) / messages,
      static_cast<double>(sizes[1]) / messages, static_cast<double>(postings) / messages);
  if (content_bytes > 0) {
    std::printf("; stored content %.0f bytes (postings = %.1f%% of it)",
                static_cast<double>(content_bytes) / messages, 100.0 * on_disk / content_bytes);
  }
  std::printf("\n");
  std::fflush(stdout);
}

// ---------------------------------------------------------------------------------------
// Queries through the admin protocol's "search" operation.

// Forwards to a journal and times the calls a search makes, by kind (the outermost call only:
// Scan's visitor calls FindDisposal).
class TimingJournal : public Journal {
 public:
  explicit TimingJournal(Journal* j) : j_(j) {}
  struct Counters {
    double postings = 0, entries = 0, audit = 0;  // seconds
    uint64_t postings_read = 0, postings_calls = 0, entry_calls = 0;
  };
  Counters c;

  Status BeginTransaction(uint64_t* txn) override { return j_->BeginTransaction(txn); }
  Status StageChunk(uint64_t txn, uint32_t index, std::string_view data) override {
    return j_->StageChunk(txn, index, data);
  }
  Status AbortTransaction(uint64_t txn, uint32_t staged) override {
    return j_->AbortTransaction(txn, staged);
  }
  Status CommitMessage(MessageEntry* entry, std::string_view final_chunk, const Finalizer& f,
                       const std::vector<TermSet>& terms, uint64_t* seq) override {
    return j_->CommitMessage(entry, final_chunk, f, terms, seq);
  }
  Status AppendEntries(std::vector<Entry>* entries, uint64_t* first_seq) override {
    Timed t(this, &c.audit);
    return j_->AppendEntries(entries, first_seq);
  }
  Status AppendCheckpoint(const CheckpointMaker& make, uint64_t* seq) override {
    return j_->AppendCheckpoint(make, seq);
  }
  uint64_t LastSequence() const override { return j_->LastSequence(); }
  void TreeHead(uint64_t* size, Sha256Digest* root) const override { j_->TreeHead(size, root); }
  Status ReadLeafHash(uint64_t seq, Sha256Digest* hash) override {
    return j_->ReadLeafHash(seq, hash);
  }
  Status ReadEntryBytes(uint64_t seq, std::string* bytes) override {
    Timed t(this, &c.entries);
    return j_->ReadEntryBytes(seq, bytes);
  }
  Status ReadEntry(uint64_t seq, Entry* entry) override {
    Timed t(this, &c.entries);
    ++c.entry_calls;
    return j_->ReadEntry(seq, entry);
  }
  Status LatestPolicy(uint64_t* seq, PolicyEntry* entry) override {
    return j_->LatestPolicy(seq, entry);
  }
  Status Scan(uint64_t from, bool reverse, const Visitor& visit) override {
    Timed t(this, &c.entries);
    return j_->Scan(from, reverse, visit);
  }
  Status ReadContent(const ContentRef& content, const ChunkSink& sink) override {
    return j_->ReadContent(content, sink);
  }
  Status ScanKind(EntryKind kind, uint64_t from, bool reverse, const Visitor& visit) override {
    return j_->ScanKind(kind, from, reverse, visit);
  }
  Status ScanSupervised(uint64_t from, bool reverse, const Visitor& visit) override {
    return j_->ScanSupervised(from, reverse, visit);
  }
  Status ScanRetention(int64_t until_us, RetentionCursor* cursor,
                       const RetentionVisitor& visit) override {
    return j_->ScanRetention(until_us, cursor, visit);
  }
  Status DisposeMessages(std::vector<Entry>* disposals, uint64_t* first_seq) override {
    return j_->DisposeMessages(disposals, first_seq);
  }
  Status CompactDisposed() override { return j_->CompactDisposed(); }
  Status FindDisposal(uint64_t seq, uint64_t* dispose_seq) override {
    Timed t(this, &c.entries);
    return j_->FindDisposal(seq, dispose_seq);
  }
  Status ReadTerms(uint64_t seq, std::vector<TermSet>* out) override {
    return j_->ReadTerms(seq, out);
  }
  Status ReadPostings(uint64_t key_id, uint64_t hash, std::vector<Posting>* out) override {
    Timed t(this, &c.postings);
    size_t before = out->size();
    Status s = j_->ReadPostings(key_id, hash, out);
    c.postings_read += out->size() - before;
    ++c.postings_calls;
    return s;
  }
  Status AddTerms(uint64_t seq, const std::vector<TermSet>& terms) override {
    return j_->AddTerms(seq, terms);
  }
  Status DropIndexKey(uint64_t key_id) override { return j_->DropIndexKey(key_id); }
  Status MergePostings() override { return j_->MergePostings(); }
  void ApproximateSizes(uint64_t* postings_bytes, uint64_t* journal_bytes) override {
    j_->ApproximateSizes(postings_bytes, journal_bytes);
  }

 private:
  struct Timed {
    Timed(TimingJournal* j, double* bucket) : j_(j), bucket_(bucket), t0_(Now()) { ++j_->depth_; }
    ~Timed() {
      if (--j_->depth_ == 0) *bucket_ += Now() - t0_;
    }
    TimingJournal* j_;
    double* bucket_;
    double t0_;
  };
  Journal* const j_;
  int depth_ = 0;
};

class CapturingWriter : public ResponseWriter {
 public:
  nlohmann::json response;
  Status Header(const nlohmann::json& r) override {
    response = r;
    return Status::OK();
  }
  Status Payload(std::string_view) override { return Status::OK(); }
  Status Trailer(const nlohmann::json&) override { return Status::OK(); }
};

struct Query {
  size_t kind = 0;
  std::string text;
  int64_t since_us = INT64_MIN, until_us = INT64_MAX;
};

struct Kind {
  std::string name, description;
  bool headline = false;  // one of the four kinds the issue names
};

struct QueryResult {
  double total_ms = 0, postings_ms = 0, entries_ms = 0, audit_ms = 0, seal_ms = 0;
  uint64_t hits = 0, postings_read = 0, entry_calls = 0;
  bool more = false;
};

// The queries: Q distinct ones per kind, drawn with a fixed seed.
std::vector<Query> MakeQueries(const Corpus& c, uint64_t messages, uint64_t per_kind,
                               int64_t first_us, int64_t last_us, std::vector<Kind>* kinds) {
  *kinds = {
      {"one-term rare", "a word of vocabulary rank 20,000-49,999", true},
      {"one-term medium", "a word of rank 1,000-4,999", true},
      {"one-term common", "a word of rank 10-199", true},
      {"one-term top-10", "a word of rank 0-9 (in 80-100% of the messages; 10 queries only)", true},
      {"one-term zh bigram", "a two-character Chinese word of rank 20-1,999 (one bigram)", true},
      {"two-term", "two words of rank 100-4,999 (implicit AND)", true},
      {"phrase", "\"w1 w2\": two adjacent words of a random message of the journal", true},
      {"phrase zh",
       "a 3-4 character Chinese word, of the 3,000 most frequent such (2-3 bigrams in a row)",
       false},
      {"date-limited", "a word of rank 1,000-4,999, since/until a random 30-day window", true},
      {"date-limited common", "a word of rank 10-199 in a random 30-day window", false},
      {"OR", "two words of rank 1,000-4,999 joined by OR", false},
      {"NOT", "a word of rank 1,000-4,999, -a word of rank 10-199", false},
      {"from: field", "from:first.last of a sender (a phrase in one field)", false},
  };
  Random r(kSeed + 99);
  const auto& w = c.words();
  const auto& h = c.han_words();
  std::vector<size_t> zh2, zh34;
  for (size_t i = 20; i < h.size(); ++i) {
    size_t chars = h[i].size() / 3;
    if (chars == 2 && i < 2000) zh2.push_back(i);
    if (chars >= 3 && zh34.size() < 3000) zh34.push_back(i);
  }
  if (zh2.empty() || zh34.empty()) Die("queries", Status::Internal("no Chinese words to query"));
  auto word = [&](size_t lo, size_t hi) { return w[lo + r.Uniform(hi - lo)]; };
  auto window = [&](Query* q) {
    int64_t span = std::max<int64_t>(1, last_us - first_us - kWindowUs);
    q->since_us = first_us + static_cast<int64_t>(r.Uniform(static_cast<uint64_t>(span)));
    q->until_us = q->since_us + kWindowUs;
  };
  std::vector<std::vector<Query>> per(kinds->size());
  for (size_t k = 0; k < kinds->size(); ++k) {
    std::set<std::string> seen;
    for (int attempt = 0; per[k].size() < per_kind && attempt < 100000; ++attempt) {
      Query q;
      q.kind = k;
      const std::string& name = (*kinds)[k].name;
      if (name == "one-term rare") {
        q.text = word(20000, 50000);
      } else if (name == "one-term medium") {
        q.text = word(1000, 5000);
      } else if (name == "one-term common") {
        q.text = word(10, 200);
      } else if (name == "one-term top-10") {
        q.text = word(0, 10);
      } else if (name == "one-term zh bigram") {
        q.text = h[zh2[r.Uniform(zh2.size())]];
      } else if (name == "two-term") {
        q.text = word(100, 5000) + " " + word(100, 5000);
      } else if (name == "phrase") {
        std::string p = MakeSynthetic(c, r.Uniform(messages)).phrase;
        if (p.empty()) continue;
        q.text = "\"" + p + "\"";
      } else if (name == "phrase zh") {
        q.text = h[zh34[r.Uniform(zh34.size())]];
      } else if (name == "date-limited") {
        q.text = word(1000, 5000);
        window(&q);
      } else if (name == "date-limited common") {
        q.text = word(10, 200);
        window(&q);
      } else if (name == "OR") {
        q.text = word(1000, 5000) + " OR " + word(1000, 5000);
      } else if (name == "NOT") {
        q.text = word(1000, 5000) + " -" + word(10, 200);
      } else if (name == "from: field") {
        const auto& pool = r.Uniform(10) < 6 ? c.sales() : c.research();
        const std::string& a = pool[r.Uniform(pool.size())].address;
        q.text = "from:" + a.substr(0, a.find('@'));
      }
      // Distinct per kind (the windows of date-limited queries make repeats distinct).
      std::string key = q.text + "|" + std::to_string(q.since_us);
      if (!seen.insert(key).second) continue;
      per[k].push_back(q);
    }
  }
  // Interleaved: query i of every kind in turn, so that drift touches every kind alike.
  std::vector<Query> all;
  for (uint64_t i = 0; i < per_kind; ++i) {
    for (auto& v : per) {
      if (i < v.size()) all.push_back(v[i]);
    }
  }
  return all;
}

void Queries(const Options& o, const Corpus& corpus, uint64_t messages) {
  std::string jdir = o.dir + "/journal";
  JournalOptions jo;
  jo.dir = jdir;
  jo.create_if_missing = false;
  std::unique_ptr<Journal> journal;
  double t0 = Now();
  Status s = OpenJournal(jo, &journal);
  if (!s.ok()) Die("opening " + jdir, s);
  double open_s = Now() - t0;
  // The span of the messages' commit times: they follow the policy's entries, consecutive.
  int64_t first_us = 0, last_us = 0;
  uint64_t first_seq = 0;
  {
    s = journal->Scan(1, false, [&](uint64_t seq, const Entry& e) {
      if (e.kind != EntryKind::kMessage) return true;
      first_seq = seq;
      first_us = e.time_us();
      return false;
    });
    Entry e;
    if (s.ok() && first_seq == 0) s = Status::NotFound("no message");
    if (s.ok()) s = journal->ReadEntry(first_seq + messages - 1, &e);
    if (s.ok() && e.kind != EntryKind::kMessage) s = Status::Corruption("not a message");
    if (s.ok()) last_us = e.time_us();
    if (!s.ok()) Die("reading the first and last messages", s);
  }
  // As mailjournald: the policy in force (from the journal) seals each query for its access
  // entry; timed apart.
  PolicyHolder policies("", journal.get());
  s = policies.LoadFromJournal();
  if (!s.ok()) Die("the journal's policy", s);
  QuerySealer policy_sealer = PolicyQuerySealer(&policies);
  double seal_seconds = 0;
  QuerySealer timed_sealer = [&](const std::vector<std::string>& departments,
                                 const std::string& query, nlohmann::json* record) {
    double t = Now();
    Status st = policy_sealer(departments, query, record);
    seal_seconds += Now() - t;
    return st;
  };
  IndexKeyStore keys(o.dir + "/keys");
  TimingJournal timing(journal.get());
  AdminHandler handler(&timing, ServerInfo{"offline", 0, jdir},
                       [](const Caller&) { return AllPermissions(); });
  AddSearchOperations(&timing, &keys, timed_sealer, &handler);
  Caller caller;
  caller.uid = getuid();
  caller.gid = getgid();
  caller.pid = getpid();
  caller.user = "search-bench";

  std::vector<Kind> kinds;
  std::vector<Query> queries = MakeQueries(corpus, messages, o.queries, first_us, last_us, &kinds);
  std::printf("\n== queries: %zu kinds x %" PRIu64
              " distinct queries, interleaved, through AdminHandler::Handle (the \"search\" "
              "operation as mailjournald runs it, in-process, no socket), limit %" PRIu64
              ", newest first, AllPermissions (both departments searched); journal opened in "
              "%.2f s; messages %s to %s\n",
              kinds.size(), o.queries, o.limit, open_s, FormatTimeUtc(first_us).c_str(),
              FormatTimeUtc(last_us).c_str());
  for (const Kind& k : kinds) {
    std::printf("  %-20s %s\n", k.name.c_str(), k.description.c_str());
  }
  std::fflush(stdout);

  auto run_one = [&](const Query& q, QueryResult* res) {
    nlohmann::json req = {{"v", 1}, {"op", "search"}, {"query", q.text}, {"limit", o.limit}};
    if (q.since_us != INT64_MIN) req["since"] = FormatTimeUtc(q.since_us);
    if (q.until_us != INT64_MAX) req["until"] = FormatTimeUtc(q.until_us);
    CapturingWriter out;
    timing.c = TimingJournal::Counters();
    seal_seconds = 0;
    double start = Now();
    Status st = handler.Handle(req, caller, &out);
    double total = Now() - start;
    if (!st.ok()) Die("search " + q.text, st);
    Status answered = StatusFromResponse(out.response);
    if (!answered.ok()) Die("search " + q.text, answered);
    res->total_ms = total * 1e3;
    res->postings_ms = timing.c.postings * 1e3;
    res->entries_ms = timing.c.entries * 1e3;
    res->audit_ms = timing.c.audit * 1e3;
    res->seal_ms = seal_seconds * 1e3;
    res->postings_read = timing.c.postings_read;
    res->entry_calls = timing.c.entry_calls;
    res->hits = out.response["hits"].size();
    res->more = out.response.value("more", false);
  };
  // Warm-up: the first query of each kind, not counted (opens LevelDB's tables).
  for (size_t k = 0; k < kinds.size() && k < queries.size(); ++k) {
    QueryResult ignored;
    run_one(queries[k], &ignored);
  }
  std::vector<std::vector<QueryResult>> results(kinds.size());
  double q0 = Now(), qc0 = CpuSeconds();
  for (const Query& q : queries) {
    QueryResult res;
    run_one(q, &res);
    results[q.kind].push_back(res);
  }
  double q_s = Now() - q0, q_cpu = CpuSeconds() - qc0;
  std::printf("  %zu queries in %.1f s (CPU %.1f s)\n", queries.size(), q_s, q_cpu);
  std::printf("\n  %-20s %5s | %8s %8s %8s | %8s %8s %8s | %8s %8s %8s %8s %8s | %9s %6s %5s %5s\n",
              "kind (ms)", "n", "p50", "p99", "max", "noaud50", "noaud99", "noaudmax", "post50",
              "entr50", "seal50", "audit50", "other50", "postings", "hits", "more", "empty");
  std::vector<std::pair<std::string, Stats>> headline;
  for (size_t k = 0; k < kinds.size(); ++k) {
    const auto& v = results[k];
    std::vector<double> total, noaudit, post, entries, seal, audit, other, read, hits;
    uint64_t more = 0, empty = 0;
    for (const auto& r : v) {
      total.push_back(r.total_ms);
      noaudit.push_back(r.total_ms - r.seal_ms - r.audit_ms);
      post.push_back(r.postings_ms);
      entries.push_back(r.entries_ms);
      seal.push_back(r.seal_ms);
      audit.push_back(r.audit_ms);
      other.push_back(r.total_ms - r.postings_ms - r.entries_ms - r.seal_ms - r.audit_ms);
      read.push_back(static_cast<double>(r.postings_read));
      hits.push_back(static_cast<double>(r.hits));
      more += r.more;
      empty += r.hits == 0;
    }
    Stats t = StatsOf(total), na = StatsOf(noaudit);
    std::printf(
        "  %-20s %5zu | %8.2f %8.2f %8.2f | %8.2f %8.2f %8.2f | %8.2f %8.2f %8.2f %8.2f "
        "%8.2f | %9.0f %6.1f %5" PRIu64 " %5" PRIu64 "\n",
        kinds[k].name.c_str(), v.size(), t.p50, t.p99, t.max, na.p50, na.p99, na.max,
        StatsOf(post).p50, StatsOf(entries).p50, StatsOf(seal).p50, StatsOf(audit).p50,
        StatsOf(other).p50, StatsOf(read).p50, Mean(hits), more, empty);
    if (kinds[k].headline) headline.push_back({kinds[k].name, t});
  }
  std::printf(
      "  (columns: whole request p50/p99/max; noaud = the request minus its audit record (the "
      "query's sealing and the access entry's synced append); post50/entr50/seal50/audit50/"
      "other50 = p50 of the time in ReadPostings, in ReadEntry/Scan/FindDisposal, sealing the "
      "query (QuerySealer: CMS to the departments' and escrow RSA keys), the access entry's "
      "AppendEntries, and the rest "
      "(parse, EvaluateCandidates, sorting, JSON); postings = p50 of the postings "
      "ReadPostings returned (both departments, all tokens); hits = mean hits returned; "
      "more = requests with more than the limit; empty = requests with no hit)\n");
  double worst = 0;
  std::string worst_kind;
  for (const auto& [name, st] : headline) {
    if (st.p50 > worst) worst = st.p50, worst_kind = name;
  }
  std::printf(
      "  => goal p50 <= 100 ms for the issue's kinds (one-term, two-term, phrase, "
      "date-limited): the slowest p50 is %.2f ms (%s): %s\n",
      worst, worst_kind.c_str(), worst <= 100 ? "met" : "NOT met");
  std::fflush(stdout);
}

int Main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) return 2;
  while (o.dir.size() > 1 && o.dir.back() == '/') o.dir.pop_back();
  std::error_code ec;
  std::filesystem::create_directories(o.dir, ec);
  if (ec) Die(o.dir, Status::IOError(ec.message()));

  std::string cmdline;
  for (int i = 0; i < argc; ++i) cmdline += std::string(i ? " " : "") + argv[i];
  std::printf("search_bench: search over a journal of synthetic messages (issue 8)\n");
  bench::PrintMachineLines();
  std::printf("disk:     %s\n", bench::DiskOf(o.dir, &g_device).c_str());
  std::printf("versions: mailjournal %s, %s, LevelDB %d.%d, GMime %s, ICU %s, libxml2 %s\n",
              MAILJOURNAL_VERSION, OpenSSL_version(OPENSSL_VERSION), leveldb::kMajorVersion,
              leveldb::kMinorVersion, SEARCH_BENCH_GMIME_VERSION, SEARCH_BENCH_ICU_VERSION,
              SEARCH_BENCH_LIBXML2_VERSION);
#ifdef NDEBUG
  const char* build = "NDEBUG";
#else
  const char* build = "assertions on (not NDEBUG)";
#endif
  std::printf("build:    %s, %s\n", SEARCH_BENCH_BUILD_TYPE, build);
  std::printf("command:  %s\n", cmdline.c_str());
  std::printf("params:   %s messages, %d build threads, %" PRIu64
              " queries per kind, limit %" PRIu64 "%s%s%s\n",
              Commas(o.messages).c_str(), o.threads, o.queries, o.limit, o.reuse ? ", --reuse" : "",
              o.build_only ? ", --build-only" : "", o.skip_cost ? ", --skip-cost" : "");
  std::fflush(stdout);

  const double c0 = Now();
  Corpus corpus;
  std::printf(
      "corpus:   %zu English-like words and %zu Chinese words (of %zu Han characters), "
      "Zipf s=1; %zu + %zu + %zu addresses (sales, research, outside); made in %.2f s; "
      "p(rank 0) = %.3f, p(rank 1,000) = %.2e, p(rank 20,000) = %.2e per word drawn\n",
      corpus.words().size(), corpus.han_words().size(), kHanChars, corpus.sales().size(),
      corpus.research().size(), corpus.outside().size(), Now() - c0, corpus.word_zipf().P(0),
      corpus.word_zipf().P(1000), corpus.word_zipf().P(20000));
  std::fflush(stdout);

  IndexKeyStore keys(o.dir + "/keys");
  std::map<std::string, std::string> pems;
  std::string policy = SealSetup(o.dir, &pems);  // the certificates are made once, kept
  if (!o.only.empty()) {
    PhaseLoad load;
    if (o.only == "builder") {
      BuilderCompare(o, corpus, &keys);
    } else {
      std::vector<MimeMessage> sample = MakeSample(o, corpus);
      if (o.only == "components") Components(o, corpus, &keys, pems, &sample);
      if (o.only == "commit") CommitPath(o, policy, sample, CostFigures());
    }
    load.Print(o.only.c_str());
    return 0;
  }
  const std::string jdir = o.dir + "/journal";
  struct stat st;
  bool exists = stat((jdir + "/db").c_str(), &st) == 0;
  if (o.reuse && !exists) Die(jdir, Status::NotFound("no journal to reuse; build one first"));
  if (!o.reuse && exists) {
    Die(jdir, Status::InvalidArgument("already holds a journal; use --reuse, or a new directory"));
  }
  if (!o.reuse) {
    // Content ~3 KB + entry ~0.6 KB + postings and their merges, with room for compactions.
    uint64_t need = o.messages * 9000;
    uint64_t free_bytes = DiskFree(o.dir);
    if (free_bytes < need) {
      Die(o.dir,
          Status::Unavailable("about " + std::to_string(need >> 20) + " MiB needed, " +
                              std::to_string(free_bytes >> 20) + " MiB free; use --messages"));
    }
  }

  if (!o.skip_cost && !o.reuse) {
    std::vector<MimeMessage> sample = MakeSample(o, corpus);
    PhaseLoad components;
    CostFigures cost = Components(o, corpus, &keys, pems, &sample);
    components.Print("the components");
    PhaseLoad commit;
    CommitPath(o, policy, sample, cost);
    commit.Print("the commit-path runs");
    PhaseLoad compare;
    BuilderCompare(o, corpus, &keys);
    compare.Print("the builder runs");
  }

  uint64_t messages = o.messages;
  uint64_t content_bytes = 0;
  if (!o.reuse) {
    std::printf(
        "\n== building %s: %s messages (%d threads, group commits, each synced), "
        "commit times spread over 3 years, departments sales/research, content 2,000-4,000 "
        "random bytes per message (standing for the sealed form), postings from "
        "IndexMessage under each department's key\n",
        jdir.c_str(), Commas(o.messages).c_str(), o.threads);
    std::fflush(stdout);
    BuildSpec spec;
    spec.dir = jdir;
    spec.messages = o.messages;
    spec.spread = true;
    spec.progress = true;
    spec.policy_path = policy;
    PhaseLoad load;
    BuildResult b = Build(o, corpus, &keys, spec);
    PrintBuild("built", b);
    std::printf(
        "  messages: %.0f%% sales, %.0f%% research; %.2f term sets (department keys) and "
        "%.0f terms per message (%.0f per set); plaintext %.0f bytes, stored content %.0f "
        "bytes per message\n",
        100.0 * b.department_count[1] / b.messages, 100.0 * b.department_count[0] / b.messages,
        static_cast<double>(b.term_sets) / b.messages, static_cast<double>(b.terms) / b.messages,
        static_cast<double>(b.terms) / std::max<uint64_t>(1, b.term_sets),
        static_cast<double>(b.plain_bytes) / b.messages,
        static_cast<double>(b.content_bytes) / b.messages);
    load.Print("the build");
    std::ofstream(o.dir + "/" + kMessagesFile) << o.messages << "\n";
    content_bytes = b.content_bytes;
    std::fflush(stdout);
  } else {
    std::ifstream in(o.dir + "/" + kMessagesFile);
    if (!(in >> messages) || messages == 0) {
      Die(o.dir + "/" + kMessagesFile, Status::NotFound("missing: how many messages were built"));
    }
  }
  if (!o.reuse || o.size) Sizes(jdir, messages, content_bytes, "the big journal");
  if (o.build_only) return 0;
  PhaseLoad load;
  Queries(o, corpus, messages);
  load.Print("the queries");
  return 0;
}

}  // namespace
}  // namespace mailjournal

int main(int argc, char** argv) { return mailjournal::Main(argc, argv); }
