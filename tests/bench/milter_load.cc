// milter_load: a milter protocol load client, the MTA's side alone (issue 6, "mailjournald
// alone"; tests/bench/README.md).
//
// Not a test: it asserts nothing about time. It speaks the Sendmail 8 milter protocol,
// version 6, as Postfix 3.7 speaks it (src/milter/milter8.c, src/smtpd/smtpd.c), straight to
// a filter's socket: no SMTP client, no queue, so what it measures is the filter. N
// connections, each a thread, send messages back to back; each connection carries K messages,
// as an SMTP session with several transactions does, then quits, and a new one opens.
//
//   per connection  SMFIC_OPTNEG; MACRO+CONNECT; MACRO+HELO; ...; SMFIC_QUIT
//   per message     MACRO+MAIL; MACRO+RCPT per recipient; MACRO+DATA; MACRO+HEADER per
//                   header; MACRO+EOH; MACRO+BODY per chunk of at most 65535 bytes;
//                   MACRO+BODYEOB; SMFIC_ABORT (Postfix resets the transaction after each one)
//
// It offers what Postfix offers (every action, every protocol step of version 6) and honours
// what the filter answers in OPTNEG as Postfix does: an SMFIP_NO* step is not sent (the macros
// of CONNECT, HELO, MAIL, RCPT and DATA are sent all the same; headers, EOH and body chunks
// then send nothing at all); after an SMFIP_NR_* step no reply is awaited (a reply the filter
// sends anyway is read as the answer to the next event that awaits one, as by Postfix);
// SMFIP_HDR_LEADSPC keeps each header value's leading space (without it one space after the
// colon is dropped); the macro lists a filter sets (SMFIF_SETSYMLIST) replace Postfix's for
// their stage. SMFIR_PROGRESS is waited through; SMFIR_SKIP ends the body chunks; header and
// recipient edits at the end of the message are read and counted, never applied.
//
// It prints the machine, the parameters and what the filter negotiated, then per run and for
// the median of each figure: messages/s and MB/s, the end-of-message answer time (from
// sending BODYEOB to reading the final answer) p50/p99/max, given --pid the filter's CPU per
// message (/proc/PID/stat) and memory (VmHWM, VmRSS), and every answer that was not CONTINUE
// or ACCEPT. It exits 1 when any message did not end with CONTINUE or ACCEPT.
#include <arpa/inet.h>
#include <fcntl.h>
#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench_util.h"

namespace mailjournal {
namespace {

using bench::Now;
using bench::ParseCount;
using bench::Random;

// What the MTA offers in SMFIC_OPTNEG, as Postfix 3.7 with milter_protocol = 6 does: version
// 6, every modification it can apply, every protocol step of version 6.
constexpr uint32_t kMtaVersion = 6;
constexpr uint32_t kMtaActions = SMFIF_ADDHDRS | SMFIF_CHGBODY | SMFIF_ADDRCPT | SMFIF_DELRCPT |
                                 SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_CHGFROM |
                                 SMFIF_ADDRCPT_PAR | SMFIF_SETSYMLIST;
constexpr uint32_t kMtaNoSend = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NORCPT |
                                SMFIP_NOBODY | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOUNKNOWN |
                                SMFIP_NODATA;
constexpr uint32_t kMtaNoReply = SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT |
                                 SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_NR_HDR | SMFIP_NR_EOH |
                                 SMFIP_NR_BODY;
constexpr uint32_t kMtaSteps =
    kMtaNoSend | kMtaNoReply | SMFIP_SKIP | SMFIP_RCPT_REJ | SMFIP_HDR_LEADSPC;
constexpr size_t kChunk = MILTER_CHUNK_SIZE;  // 65535: the most body bytes per SMFIC_BODY

// Postfix 3.7's default macro lists (postconf -d milter_*_macros), by SMFIM_* stage. A name
// with no value at the time is left out, as Postfix leaves it out.
const char* const kPostfixMacros[SMFIM_LAST + 1] = {
    "j {daemon_name} {daemon_addr} v _",                                  // SMFIM_CONNECT
    "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}",  // SMFIM_HELO
    "i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}",  // MAIL
    "i {rcpt_addr} {rcpt_host} {rcpt_mailer}",  // SMFIM_ENVRCPT
    "i",                                        // SMFIM_DATA
    "i",                                        // SMFIM_EOM
    "i",                                        // SMFIM_EOH
};
const char* const kStageNames[SMFIM_LAST + 1] = {"connect", "helo", "mail", "rcpt",
                                                 "data",    "eom",  "eoh"};

constexpr char kHostName[] = "gw.bank.example";  // the MTA's myhostname ("j", daemon_name)

struct Options {
  std::string socket;
  int connections = 20;
  uint64_t messages = 5000;       // per run
  uint64_t per_connection = 100;  // messages per connection before it quits
  uint64_t size = 20000;          // bytes per message, headers included
  int recipients = 2;
  double rate = 0;  // messages/s started, 0: each connection sends as soon as answered
  pid_t pid = 0;    // the filter's process, 0: not measured
  int runs = 3;
  bool auth = false;  // SASL macros at MAIL ({auth_type}, {auth_authen})
  bool random_content = false;
  bool header = true;  // print the machine and parameters
  bool negotiate_only = false;
  bool sync_probe = false;  // print the sync probe line even with --no-header
};

void Usage() {
  std::fprintf(
      stderr,
      "usage: milter_load --socket SPEC [options]\n"
      "  --socket SPEC        the filter: unix:/path, inet:PORT@HOST (libmilter's form), "
      "inet:HOST:PORT\n"
      "  --connections N      concurrent connections, a thread each (default 20)\n"
      "  --messages M         messages per run (default 5000)\n"
      "  --per-connection K   messages per connection before it quits and a new one opens "
      "(default 100)\n"
      "  --size S             bytes per message, headers included (default 20000)\n"
      "  --content KIND       text (mail-like; default) or random (incompressible body)\n"
      "  --recipients R       RCPT TO per message (default 2)\n"
      "  --auth               every connection is SASL-authenticated ({auth_type} "
      "{auth_authen} at MAIL)\n"
      "  --rate R             start R messages/s in all (paced), instead of each connection "
      "sending as soon as answered\n"
      "  --pid PID            the filter's process: its CPU per message and memory "
      "(/proc/PID)\n"
      "  --runs N             runs (default 3), then the median of each figure\n"
      "  --no-header          leave out the machine and parameter lines\n"
      "  --sync-probe         with --no-header: still time 200 4 KB write + fdatasync in the\n"
      "                       current directory first\n"
      "  --negotiate-only     only negotiate, print \"version=V actions=0xA steps=0xS\" and "
      "exit\n");
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto count = [&](uint64_t min, uint64_t max, uint64_t* out) {
      if (i + 1 >= argc || !ParseCount(argv[++i], min, out) || *out > max) {
        std::fprintf(stderr, "milter_load: %s needs a number from %" PRIu64 " to %" PRIu64 "\n",
                     a.c_str(), min, max);
        return false;
      }
      return true;
    };
    uint64_t v = 0;
    if (a == "--socket" && i + 1 < argc) {
      o->socket = argv[++i];
    } else if (a == "--connections") {
      if (!count(1, 4096, &v)) return false;
      o->connections = static_cast<int>(v);
    } else if (a == "--messages") {
      if (!count(1, UINT64_C(1) << 40, &o->messages)) return false;
    } else if (a == "--per-connection") {
      if (!count(1, UINT64_C(1) << 40, &o->per_connection)) return false;
    } else if (a == "--size") {
      if (!count(1, UINT64_C(1) << 34, &o->size)) return false;
    } else if (a == "--content") {
      if (!bench::ParseContent("milter_load", argc, argv, &i, &o->random_content)) return false;
    } else if (a == "--recipients") {
      if (!count(1, 1000, &v)) return false;
      o->recipients = static_cast<int>(v);
    } else if (a == "--auth") {
      o->auth = true;
    } else if (a == "--rate") {
      if (!count(1, 10000000, &v)) return false;
      o->rate = static_cast<double>(v);
    } else if (a == "--pid") {
      if (!count(1, 1 << 30, &v)) return false;
      o->pid = static_cast<pid_t>(v);
    } else if (a == "--runs") {
      if (!count(1, 100, &v)) return false;
      o->runs = static_cast<int>(v);
    } else if (a == "--no-header") {
      o->header = false;
    } else if (a == "--sync-probe") {
      o->sync_probe = true;
    } else if (a == "--negotiate-only") {
      o->negotiate_only = true;
    } else if (a == "-h" || a == "--help") {
      Usage();
      std::exit(0);
    } else {
      std::fprintf(stderr, "milter_load: unknown or incomplete option %s\n", a.c_str());
      return false;
    }
  }
  if (o->socket.empty()) {
    Usage();
    return false;
  }
  return true;
}

[[noreturn]] void Die(const std::string& what, const Status& s) {
  bench::Die("milter_load", what, s);
}

// ---------------------------------------------------------------------------------------
// The filter's socket.

struct Endpoint {
  struct sockaddr_storage addr = {};
  socklen_t len = 0;
};

// unix:/path (also local:), inet:PORT@HOST and inet6:PORT@HOST (libmilter's spelling),
// inet:HOST:PORT (Postfix's).
Status ParseEndpoint(const std::string& spec, Endpoint* out) {
  size_t colon = spec.find(':');
  std::string kind = colon == std::string::npos ? "" : spec.substr(0, colon);
  std::string rest = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if ((kind == "unix" || kind == "local") && !rest.empty()) {
    struct sockaddr_un un = {};
    if (rest.size() >= sizeof un.sun_path) return Status::InvalidArgument(spec + ": path too long");
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path, rest.data(), rest.size());
    std::memcpy(&out->addr, &un, sizeof un);
    out->len = sizeof un;
    return Status::OK();
  }
  if (kind != "inet" && kind != "inet6") {
    return Status::InvalidArgument(spec + ": not unix:PATH, inet:PORT@HOST or inet:HOST:PORT");
  }
  std::string host, port;
  size_t at = rest.find('@');
  if (at != std::string::npos) {
    port = rest.substr(0, at);
    host = rest.substr(at + 1);
  } else if (size_t last = rest.rfind(':'); last != std::string::npos) {
    host = rest.substr(0, last);
    port = rest.substr(last + 1);
  }
  if (host.empty() || port.empty()) return Status::InvalidArgument(spec + ": no host or port");
  struct addrinfo hints = {};
  hints.ai_family = kind == "inet6" ? AF_INET6 : AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  struct addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    return Status::InvalidArgument(spec + ": " + gai_strerror(rc));
  }
  std::memcpy(&out->addr, res->ai_addr, res->ai_addrlen);
  out->len = res->ai_addrlen;
  freeaddrinfo(res);
  return Status::OK();
}

// ---------------------------------------------------------------------------------------
// Protocol names, for the report.

std::string StepNames(uint32_t steps) {
  static const std::pair<uint32_t, const char*> kNames[] = {{SMFIP_NOCONNECT, "NOCONNECT"},
                                                            {SMFIP_NOHELO, "NOHELO"},
                                                            {SMFIP_NOMAIL, "NOMAIL"},
                                                            {SMFIP_NORCPT, "NORCPT"},
                                                            {SMFIP_NOBODY, "NOBODY"},
                                                            {SMFIP_NOHDRS, "NOHDRS"},
                                                            {SMFIP_NOEOH, "NOEOH"},
                                                            {SMFIP_NR_HDR, "NR_HDR"},
                                                            {SMFIP_NOUNKNOWN, "NOUNKNOWN"},
                                                            {SMFIP_NODATA, "NODATA"},
                                                            {SMFIP_SKIP, "SKIP"},
                                                            {SMFIP_RCPT_REJ, "RCPT_REJ"},
                                                            {SMFIP_NR_CONN, "NR_CONN"},
                                                            {SMFIP_NR_HELO, "NR_HELO"},
                                                            {SMFIP_NR_MAIL, "NR_MAIL"},
                                                            {SMFIP_NR_RCPT, "NR_RCPT"},
                                                            {SMFIP_NR_DATA, "NR_DATA"},
                                                            {SMFIP_NR_UNKN, "NR_UNKN"},
                                                            {SMFIP_NR_EOH, "NR_EOH"},
                                                            {SMFIP_NR_BODY, "NR_BODY"},
                                                            {SMFIP_HDR_LEADSPC, "HDR_LEADSPC"}};
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if (steps & bit) out += std::string(out.empty() ? "" : " ") + "SMFIP_" + name;
  }
  uint32_t unknown = steps & ~kMtaSteps;
  if (unknown) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%x", unknown);
    out += std::string(out.empty() ? "" : " ") + "unknown " + buf;
  }
  return out.empty() ? "none" : out;
}

std::string EventName(char cmd) {
  switch (cmd) {
    case SMFIC_OPTNEG:
      return "OPTNEG";
    case SMFIC_CONNECT:
      return "CONNECT";
    case SMFIC_HELO:
      return "HELO";
    case SMFIC_MAIL:
      return "MAIL";
    case SMFIC_RCPT:
      return "RCPT";
    case SMFIC_DATA:
      return "DATA";
    case SMFIC_HEADER:
      return "HEADER";
    case SMFIC_EOH:
      return "EOH";
    case SMFIC_BODY:
      return "BODY";
    case SMFIC_BODYEOB:
      return "BODYEOB";
    default:
      return std::string(1, cmd);
  }
}

// ---------------------------------------------------------------------------------------
// One connection to the filter.

// The filter's decision on one event.
struct Answer {
  char code = SMFIR_CONTINUE;  // SMFIR_*; CONTINUE when no reply was awaited
  std::string text;            // SMFIR_REPLYCODE's SMTP reply
  int edits = 0;  // header, recipient, sender, body edits and quarantine requests before it
  bool Continue() const { return code == SMFIR_CONTINUE; }
};

// "tempfail", "reject 550 5.7.1 ...", ...
std::string Describe(const Answer& a) {
  switch (a.code) {
    case SMFIR_CONTINUE:
      return "continue";
    case SMFIR_ACCEPT:
      return "accept";
    case SMFIR_TEMPFAIL:
      return "tempfail";
    case SMFIR_REJECT:
      return "reject";
    case SMFIR_DISCARD:
      return "discard";
    case SMFIR_SKIP:
      return "skip";
    case SMFIR_SHUTDOWN:
      return "shutdown (421)";
    case SMFIR_CONN_FAIL:
      return "connection failure";
    case SMFIR_REPLYCODE:
      return "reply \"" + a.text + "\"";
    default:
      return std::string("answer '") + a.code + "'";
  }
}

// What the filter answered to SMFIC_OPTNEG.
struct Negotiated {
  uint32_t version = 0, actions = 0, steps = 0;
  std::string macro_lists;  // the filter's own lists, "stage: names; ..."
};

class Connection {
 public:
  Connection(const Options& o, const Endpoint& endpoint, int index)
      : o_(o), endpoint_(endpoint), index_(index) {}
  ~Connection() { Close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool open() const { return fd_ >= 0; }
  const Negotiated& negotiated() const { return negotiated_; }
  uint64_t packets_sent() const { return packets_sent_; }
  uint64_t replies_read() const { return replies_read_; }

  // Connects and negotiates (SMFIC_OPTNEG). Fails on a refused connection, an I/O error, or
  // a negotiation Postfix would refuse (a higher version, actions not offered).
  Status Open() {
    Close();
    fd_ = socket(endpoint_.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return Errno("socket");
    if (connect(fd_, reinterpret_cast<const struct sockaddr*>(&endpoint_.addr), endpoint_.len) !=
        0) {
      Status s = Errno("connect to " + o_.socket);
      Close();
      return s;
    }
    std::string data = Long(kMtaVersion) + Long(kMtaActions) + Long(kMtaSteps);
    Status s = Put(SMFIC_OPTNEG, data);
    char cmd = 0;
    std::string reply;
    if (s.ok()) s = Flush();
    if (s.ok()) s = ReadPacket(&cmd, &reply);
    if (s.ok() && (cmd != SMFIC_OPTNEG || reply.size() < 12)) {
      s = Status::IOError("OPTNEG: unexpected reply '" + std::string(1, cmd) + "' of " +
                          std::to_string(reply.size()) + " bytes");
    }
    if (!s.ok()) {
      Close();
      return s;
    }
    Negotiated& n = negotiated_;
    n.version = GetLong(reply, 0);
    n.actions = GetLong(reply, 4);
    n.steps = GetLong(reply, 8);
    if (n.version > kMtaVersion || (n.actions & kMtaActions) != n.actions) {
      Close();
      return Status::InvalidArgument("OPTNEG: the filter wants version " +
                                     std::to_string(n.version) + ", actions " +
                                     std::to_string(n.actions) + ": more than offered");
    }
    for (int stage = 0; stage <= SMFIM_LAST; ++stage) SetMacroNames(stage, kPostfixMacros[stage]);
    // Secondary negotiation: (stage, "name name ...") pairs replace Postfix's lists.
    n.macro_lists.clear();
    for (size_t pos = 12; pos + 4 < reply.size();) {
      uint32_t stage = GetLong(reply, pos);
      size_t end = reply.find('\0', pos + 4);
      if (end == std::string::npos) end = reply.size();
      std::string names = reply.substr(pos + 4, end - pos - 4);
      pos = end + 1;
      // Postfix ignores an unknown stage, and keeps its own list for an empty one.
      if (stage > SMFIM_LAST || names.find_first_not_of(" \t") == std::string::npos) continue;
      SetMacroNames(stage, names);
      n.macro_lists +=
          std::string(n.macro_lists.empty() ? "" : "; ") + kStageNames[stage] + ": " + names;
    }
    return Status::OK();
  }

  // SMFIC_CONNECT and SMFIC_HELO for an SMTP client from the bank's internal network; *event
  // names the last event sent.
  Status Greet(Answer* answer, char* event) {
    Random r(0x5eed0000ULL + index_ * 7919 + connections_++);
    std::string name = "exch" + std::to_string(1 + index_ % 8) + ".corp.bank.example";
    std::string addr = "10.1." + std::to_string(index_ % 200) + "." + std::to_string(1 + index_);
    uint16_t port = static_cast<uint16_t>(1024 + r.Uniform(64000));
    values_.clear();
    values_["j"] = kHostName;
    values_["daemon_name"] = kHostName;
    values_["daemon_addr"] = "192.0.2.25";
    values_["v"] = "Postfix 3.7.11";
    values_["_"] = name + " [" + addr + "]";
    std::string data = name + '\0' + static_cast<char>(SMFIA_INET) + static_cast<char>(port >> 8) +
                       static_cast<char>(port & 0xff) + addr + '\0';
    skip_event_ = 0;
    *event = SMFIC_CONNECT;
    Status s = Event(SMFIC_CONNECT, SMFIM_CONNECT, SMFIP_NOCONNECT, SMFIP_NR_CONN, data, answer);
    if (!s.ok() || !answer->Continue()) return s;
    values_["tls_version"] = "TLSv1.3";
    values_["cipher"] = "TLS_AES_256_GCM_SHA384";
    values_["cipher_bits"] = "256";
    if (o_.auth) {
      values_["auth_type"] = "PLAIN";
      values_["auth_authen"] = "user" + std::to_string(index_) + "@bank.example";
    }
    *event = SMFIC_HELO;
    return Event(SMFIC_HELO, SMFIM_HELO, SMFIP_NOHELO, SMFIP_NR_HELO, name + '\0', answer);
  }

  // One message; *answer is the first answer that was not CONTINUE, or the end of message's
  // (*event names the event it answered). *eom_seconds: from sending BODYEOB to its answer.
  // Always ends the transaction with SMFIC_ABORT, as Postfix's smtpd does after each one.
  Status Send(const bench::MailMessage& m, const std::string& queue_id, Random* r, Answer* answer,
              char* event, double* eom_seconds) {
    *eom_seconds = -1;
    std::string from = bench::MailAddress(r, "bank.example");
    values_["mail_addr"] = from;
    values_["mail_host"] = "bank.example";
    values_["mail_mailer"] = "smtp";
    values_.erase("i");  // no queue id before the first recipient is accepted (Postfix)
    *event = SMFIC_MAIL;
    std::string args =
        "<" + from + ">" + '\0' + "SIZE=" + std::to_string(m.size) + '\0' + "BODY=8BITMIME" + '\0';
    Status s = Event(SMFIC_MAIL, SMFIM_ENVFROM, SMFIP_NOMAIL, SMFIP_NR_MAIL, args, answer);
    if (!s.ok()) return s;
    if (answer->code != SMFIR_CONTINUE && answer->code != SMFIR_ACCEPT) return s;  // no sender
    for (int i = 0; s.ok() && answer->Continue() && i < o_.recipients; ++i) {
      std::string to = i == 0 ? bench::MailAddress(r, "customer.example")
                              : "desk" + std::to_string(i) + "@bank.example";
      if (i > 0) values_["i"] = queue_id;
      values_["rcpt_addr"] = to;
      values_["rcpt_host"] = to.substr(to.find('@') + 1);
      values_["rcpt_mailer"] = "smtp";
      *event = SMFIC_RCPT;
      s = Event(SMFIC_RCPT, SMFIM_ENVRCPT, SMFIP_NORCPT, SMFIP_NR_RCPT, "<" + to + ">" + '\0',
                answer);
    }
    values_["i"] = queue_id;
    if (s.ok() && answer->Continue() && negotiated_.version >= 4) {  // DATA: version 4 on
      *event = SMFIC_DATA;
      s = Event(SMFIC_DATA, SMFIM_DATA, SMFIP_NODATA, SMFIP_NR_DATA, "", answer);
    }
    const uint32_t steps = negotiated_.steps;
    // The content, as Postfix's cleanup server sends it: the header, EOH and body events
    // (with their macros) only when the filter wants them.
    if (!(steps & SMFIP_NOHDRS)) {
      for (const auto& [name, value] : m.headers) {
        if (!s.ok() || !answer->Continue()) break;
        std::string_view v = value;
        if (!(steps & SMFIP_HDR_LEADSPC) && !v.empty() && v[0] == ' ') v.remove_prefix(1);
        *event = SMFIC_HEADER;
        s = Event(SMFIC_HEADER, SMFIM_EOH, 0, SMFIP_NR_HDR, name + '\0' + std::string(v) + '\0',
                  answer);
      }
    }
    if (s.ok() && answer->Continue() && !(steps & SMFIP_NOEOH)) {
      *event = SMFIC_EOH;
      s = Event(SMFIC_EOH, SMFIM_EOH, 0, SMFIP_NR_EOH, "", answer);
    }
    if (!(steps & SMFIP_NOBODY)) {
      for (size_t off = 0; s.ok() && answer->Continue() && off < m.body.size(); off += kChunk) {
        *event = SMFIC_BODY;
        s = Event(SMFIC_BODY, SMFIM_EOM, 0, SMFIP_NR_BODY,
                  std::string_view(m.body).substr(off, kChunk), answer);
      }
    }
    if (s.ok() && answer->Continue()) {
      *event = SMFIC_BODYEOB;
      s = Event(SMFIC_BODYEOB, SMFIM_EOM, 0, 0, "", answer, eom_seconds);
    }
    if (s.ok()) s = Put(SMFIC_ABORT, "");  // sent with the next event
    return s;
  }

  // SMFIC_QUIT, then close, as Postfix does when the SMTP client leaves.
  void Quit() {
    if (fd_ < 0) return;
    if (Put(SMFIC_QUIT, "").ok()) (void)Flush();
    Close();
  }

  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    out_.clear();
    in_.clear();
  }

 private:
  static std::string Long(uint32_t v) {
    v = htonl(v);
    return std::string(reinterpret_cast<const char*>(&v), 4);
  }
  static uint32_t GetLong(const std::string& s, size_t pos) {
    uint32_t v;
    std::memcpy(&v, s.data() + pos, 4);
    return ntohl(v);
  }
  static Status Errno(const std::string& what) {
    return Status::IOError(what + ": " + std::strerror(errno));
  }

  void SetMacroNames(int stage, const std::string& list) {
    std::istringstream in(list);
    names_[stage].clear();
    for (std::string name; in >> name;) names_[stage].push_back(name);
  }

  // The SMFIC_MACRO packet of `stage` for event `cmd`: each name of the stage's list that has
  // a value now ("{x}" and "x" name the same macro), always sent, even with no pair in it.
  Status Macros(char cmd, int stage) {
    std::string data(1, cmd);
    for (const std::string& name : names_[stage]) {
      std::string key = name;
      if (key.size() > 2 && key.front() == '{' && key.back() == '}') {
        key = key.substr(1, key.size() - 2);
      }
      auto it = values_.find(key);
      if (it == values_.end() || it->second.empty()) continue;
      data += name + '\0' + it->second + '\0';
    }
    return Put(SMFIC_MACRO, data);
  }

  // One event as milter8.c sends it: nothing while the filter skips events of this kind
  // (SMFIR_SKIP, until another kind comes); its macros; the event unless the filter
  // negotiated `no_send`; its answer unless it negotiated `no_reply`. SMFIR_SKIP is taken
  // here and answered as CONTINUE. *seconds (if given): from writing the event to its answer.
  Status Event(char cmd, int stage, uint32_t no_send, uint32_t no_reply, std::string_view data,
               Answer* answer, double* seconds = nullptr) {
    *answer = Answer();
    if (skip_event_ != 0) {
      if (skip_event_ == cmd) return Status::OK();
      skip_event_ = 0;
    }
    Status s = Macros(cmd, stage);
    if (!s.ok() || (negotiated_.steps & no_send)) return s;
    s = Put(cmd, data);
    if (!s.ok() || (negotiated_.steps & no_reply)) return s;
    double t0 = Now();
    s = Flush();
    if (s.ok()) s = ReadAnswer(cmd, answer);
    if (s.ok() && seconds != nullptr) *seconds = Now() - t0;
    if (s.ok() && answer->code == SMFIR_SKIP) {
      skip_event_ = cmd;
      *answer = Answer();
    }
    return s;
  }

  // Queues a packet; large data (body chunks) goes out at once with what is queued, in one
  // writev, without being copied.
  Status Put(char cmd, std::string_view data) {
    out_ += Long(static_cast<uint32_t>(data.size() + 1));
    out_ += cmd;
    ++packets_sent_;
    if (data.size() < 4096) {
      out_.append(data.data(), data.size());
      return Status::OK();
    }
    return Flush(data);
  }

  // Writes the queued packets, then `tail`.
  Status Flush(std::string_view tail = {}) {
    const size_t total = out_.size() + tail.size();
    for (size_t done = 0; done < total;) {
      struct iovec iov[2];
      int n = 0;
      if (done < out_.size()) iov[n++] = {out_.data() + done, out_.size() - done};
      size_t t = done > out_.size() ? done - out_.size() : 0;
      if (t < tail.size()) iov[n++] = {const_cast<char*>(tail.data()) + t, tail.size() - t};
      ssize_t w = writev(fd_, iov, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Errno("write to " + o_.socket);
      done += static_cast<size_t>(w);
    }
    out_.clear();
    return Status::OK();
  }

  Status Fill(size_t want) {
    while (in_.size() < want) {
      char buf[65536];
      ssize_t r = read(fd_, buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return Errno("read from " + o_.socket);
      if (r == 0) return Status::IOError("the filter closed the connection");
      in_.append(buf, static_cast<size_t>(r));
    }
    return Status::OK();
  }

  Status ReadPacket(char* cmd, std::string* data) {
    Status s = Fill(4);
    if (!s.ok()) return s;
    uint32_t len = GetLong(in_, 0);
    if (len < 1 || len > (64u << 20)) {
      return Status::IOError("bad reply length " + std::to_string(len));
    }
    s = Fill(4 + len);
    if (!s.ok()) return s;
    *cmd = in_[4];
    data->assign(in_, 5, len - 1);
    in_.erase(0, 4 + len);
    ++replies_read_;
    return Status::OK();
  }

  // Reads replies until the decision on `event`, as milter8.c does: PROGRESS is waited
  // through, QUARANTINE noted, edits (at BODYEOB only) counted; anything else is a protocol
  // error.
  Status ReadAnswer(char event, Answer* answer) {
    *answer = Answer();
    for (;;) {
      char cmd = 0;
      std::string data;
      Status s = ReadPacket(&cmd, &data);
      if (!s.ok()) return s;
      switch (cmd) {
        case SMFIR_PROGRESS:
          if (!data.empty()) break;
          continue;
        case SMFIR_CONTINUE:
        case SMFIR_ACCEPT:
        case SMFIR_DISCARD:
        case SMFIR_REJECT:
        case SMFIR_TEMPFAIL:
        case SMFIR_SHUTDOWN:
        case SMFIR_CONN_FAIL:
        case SMFIR_SKIP:
          if (!data.empty()) break;
          answer->code = cmd;
          return Status::OK();
        case SMFIR_REPLYCODE:
          while (!data.empty() && data.back() == '\0') data.pop_back();
          answer->code = cmd;
          answer->text = data;
          return Status::OK();
        case SMFIR_QUARANTINE:
          ++answer->edits;
          continue;
        case SMFIR_ADDHEADER:
        case SMFIR_CHGHEADER:
        case SMFIR_INSHEADER:
        case SMFIR_CHGFROM:
        case SMFIR_ADDRCPT:
        case SMFIR_ADDRCPT_PAR:
        case SMFIR_DELRCPT:
        case SMFIR_REPLBODY:
          if (event != SMFIC_BODYEOB) break;
          ++answer->edits;
          continue;
        default:
          break;
      }
      return Status::IOError("unexpected reply '" + std::string(1, cmd) + "' (" +
                             std::to_string(data.size()) + " bytes) to " + EventName(event));
    }
  }

  const Options& o_;
  const Endpoint& endpoint_;
  const int index_;
  uint64_t connections_ = 0;
  int fd_ = -1;
  char skip_event_ = 0;  // the event the filter answered SMFIR_SKIP to, while it repeats
  std::string out_;      // queued packets
  std::string in_;       // read, not yet parsed
  Negotiated negotiated_;
  std::vector<std::string> names_[SMFIM_LAST + 1];  // macro names by SMFIM_* stage
  std::map<std::string, std::string> values_;       // macro values now, by name without {}
  uint64_t packets_sent_ = 0, replies_read_ = 0;
};

// ---------------------------------------------------------------------------------------
// The filter's process.

struct ProcSample {
  bool ok = false;
  double cpu = 0;        // user + system seconds, all threads (/proc/PID/stat)
  uint64_t hwm_kb = 0;   // VmHWM: peak resident set
  uint64_t rss_kb = 0;   // VmRSS
  uint64_t threads = 0;  // Threads
};

ProcSample SampleProcess(pid_t pid) {
  ProcSample p;
  if (pid <= 0) return p;
  std::string base = "/proc/" + std::to_string(pid);
  std::string stat = bench::ReadFile(base + "/stat");
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return p;
  std::istringstream in(stat.substr(paren + 2));
  std::vector<std::string> f;
  for (std::string x; in >> x;) f.push_back(x);
  if (f.size() < 13) return p;  // f[0] is field 3 (state): utime is field 14, stime 15
  p.cpu = (std::stod(f[11]) + std::stod(f[12])) / sysconf(_SC_CLK_TCK);
  std::istringstream status(bench::ReadFile(base + "/status"));
  for (std::string line; std::getline(status, line);) {
    auto field = [&](const char* name, uint64_t* out) {
      size_t n = std::strlen(name);
      if (line.compare(0, n, name) == 0) *out = std::stoull(line.substr(n));
    };
    field("VmHWM:", &p.hwm_kb);
    field("VmRSS:", &p.rss_kb);
    field("Threads:", &p.threads);
  }
  p.ok = true;
  return p;
}

// Resets the process's VmHWM to its current RSS (Linux 4.0+; its owner or root).
bool ResetPeak(pid_t pid) {
  int fd = open(("/proc/" + std::to_string(pid) + "/clear_refs").c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, "5", 1) == 1;
  close(fd);
  return ok;
}

// ---------------------------------------------------------------------------------------
// A run.

enum Outcome { kOkContinue, kOkAccept, kEarlyAccept, kNotOk, kError, kOutcomes };

struct ThreadResult {
  std::vector<double> eom;  // seconds, messages answered at BODYEOB
  std::vector<double> lag;  // seconds a paced message started after its time
  uint64_t count[kOutcomes] = {0};
  uint64_t bytes = 0, connections = 0, packets = 0, replies = 0, edits = 0;
  std::map<std::string, uint64_t> not_ok;  // "EVENT: answer" -> messages
};

struct Run {
  int runs = 1;  // > 1 for the median: counts are summed over the runs
  uint64_t messages = 0, bytes = 0, connections = 0, packets = 0, replies = 0, edits = 0;
  uint64_t count[kOutcomes] = {0};
  std::map<std::string, uint64_t> not_ok;
  double seconds = 0, eom_p50 = 0, eom_p99 = 0, eom_max = 0, lag_p99 = 0;
  double client_cpu = 0, machine_busy = 0;
  ProcSample filter0, filter1;
  uint64_t max_threads = 0;  // the filter's, sampled during the run
  bool peak_reset = false;
  double ok() const { return count[kOkContinue] + count[kOkAccept]; }
  double rate() const { return messages / seconds; }
  double mbps() const { return bytes / 1e6 / seconds; }
  double filter_cpu() const { return filter1.cpu - filter0.cpu; }
};

std::string QueueId(uint64_t start_us, uint64_t n) {
  // Unique per message, shaped like a Postfix long queue id: time, 'z', a number.
  static const char kDigits[] = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjkmnpqrstvwxy";
  constexpr uint64_t kBase = sizeof kDigits - 1;
  auto enc = [](uint64_t v) {
    std::string s;
    do {
      s.insert(s.begin(), kDigits[v % kBase]);
      v /= kBase;
    } while (v);
    return s;
  };
  return enc(start_us) + "z" + enc(n);
}

Run RunOnce(const Options& o, const Endpoint& endpoint, const std::vector<bench::MailMessage>& pool,
            int index) {
  std::vector<ThreadResult> results(o.connections);
  std::atomic<uint64_t> next{0};
  bench::StartGate gate(o.connections);
  double t0 = 0;
  const uint64_t start_us =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  std::vector<std::thread> threads;
  for (int t = 0; t < o.connections; ++t) {
    threads.emplace_back([&, t] {
      ThreadResult& res = results[t];
      Random r(1000003ULL * index + t + 1);
      Connection conn(o, endpoint, t);
      uint64_t on_connection = 0, failures_in_a_row = 0;
      gate.Arrive();
      for (uint64_t n; (n = next++) < o.messages;) {
        if (o.rate > 0) {
          double due = t0 + n / o.rate, now = Now();
          if (due > now) {
            std::this_thread::sleep_for(std::chrono::duration<double>(due - now));
          } else {
            res.lag.push_back(now - due);
          }
        }
        const bench::MailMessage& m = pool[(n + index * 7919) % pool.size()];
        res.bytes += m.size;
        Answer answer;
        char event = SMFIC_CONNECT;
        Status s;
        if (!conn.open()) {
          s = conn.Open();
          if (s.ok()) {
            ++res.connections;
            on_connection = 0;
            s = conn.Greet(&answer, &event);
          }
        }
        double eom = -1;
        if (s.ok() && answer.Continue()) {
          s = conn.Send(m, QueueId(start_us, n), &r, &answer, &event, &eom);
        }
        Outcome outcome = kNotOk;
        if (!s.ok()) {
          outcome = kError;
        } else if (event == SMFIC_BODYEOB && answer.code == SMFIR_CONTINUE) {
          outcome = kOkContinue;
        } else if (event == SMFIC_BODYEOB && answer.code == SMFIR_ACCEPT) {
          outcome = kOkAccept;
        } else if (answer.code == SMFIR_ACCEPT) {
          outcome = kEarlyAccept;
        }
        ++res.count[outcome];
        res.edits += answer.edits;
        if (eom >= 0) res.eom.push_back(eom);
        if (outcome != kOkContinue && outcome != kOkAccept) {
          std::string what = outcome == kError ? "error: " + s.ToString()
                                               : EventName(event) + ": " + Describe(answer);
          if (res.not_ok.size() < 20 || res.not_ok.count(what)) ++res.not_ok[what];
        }
        if (!s.ok() || event == SMFIC_CONNECT || event == SMFIC_HELO) {
          conn.Close();  // Postfix gives up the connection after an error or a refusal
          if (++failures_in_a_row >= 50) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
          }
          continue;
        }
        failures_in_a_row = 0;
        if (++on_connection >= o.per_connection) conn.Quit();
      }
      conn.Quit();
      res.packets = conn.packets_sent();
      res.replies = conn.replies_read();
    });
  }
  gate.WaitReady();
  Run run;
  if (o.pid > 0) run.peak_reset = ResetPeak(o.pid);
  run.filter0 = SampleProcess(o.pid);
  const double c0 = bench::CpuSeconds();
  const bench::MachineSample m0 = bench::SampleMachine("");
  gate.Open([&] { t0 = Now(); });
  // The filter's thread count, sampled every 50 ms (libmilter's worker pool grows with the
  // callbacks in progress; VmHWM needs no sampling).
  std::atomic<bool> done{false};
  std::thread sampler([&] {
    while (o.pid > 0 && !done) {
      run.max_threads = std::max(run.max_threads, SampleProcess(o.pid).threads);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  for (auto& th : threads) th.join();
  done = true;
  sampler.join();
  run.seconds = Now() - t0;
  run.client_cpu = bench::CpuSeconds() - c0;
  run.machine_busy = bench::SampleMachine("").busy - m0.busy;
  run.filter1 = SampleProcess(o.pid);

  std::vector<double> eom, lag;
  for (const ThreadResult& r : results) {
    eom.insert(eom.end(), r.eom.begin(), r.eom.end());
    lag.insert(lag.end(), r.lag.begin(), r.lag.end());
    for (int i = 0; i < kOutcomes; ++i) run.count[i] += r.count[i];
    run.bytes += r.bytes;
    run.connections += r.connections;
    run.packets += r.packets;
    run.replies += r.replies;
    run.edits += r.edits;
    for (const auto& [what, k] : r.not_ok) run.not_ok[what] += k;
  }
  run.messages = o.messages;
  std::sort(eom.begin(), eom.end());
  std::sort(lag.begin(), lag.end());
  run.eom_p50 = bench::Percentile(eom, 0.50);
  run.eom_p99 = bench::Percentile(eom, 0.99);
  run.eom_max = eom.empty() ? 0 : eom.back();
  // Messages that started on time count as 0 lag.
  lag.insert(lag.begin(), o.messages > lag.size() ? o.messages - lag.size() : 0, 0.0);
  std::sort(lag.begin(), lag.end());
  run.lag_p99 = o.rate > 0 ? bench::Percentile(lag, 0.99) : 0;
  return run;
}

void PrintRun(const Options& o, const std::string& label, const Run& r) {
  double filter = r.filter_cpu();
  uint64_t bad = r.messages * r.runs - static_cast<uint64_t>(r.ok());
  std::printf("%-7s %6" PRIu64
              " msgs %6.2f s %7.0f msg/s %6.1f MB/s | EOM ms p50 %6.2f p99 %6.2f "
              "max %7.2f",
              label.c_str(), r.messages, r.seconds, r.rate(), r.mbps(), r.eom_p50 * 1e3,
              r.eom_p99 * 1e3, r.eom_max * 1e3);
  if (r.filter1.ok) {
    std::printf(" | filter CPU %5.0f us/msg, peak RSS %6.1f MB%s, RSS %6.1f MB, threads %" PRIu64
                " (up to %" PRIu64 ")",
                filter / r.messages * 1e6, r.filter1.hwm_kb / 1024.0,
                r.peak_reset ? "" : " (since start)", r.filter1.rss_kb / 1024.0, r.filter1.threads,
                std::max(r.max_threads, r.filter1.threads));
  }
  std::printf(" | %scontinue %" PRIu64 " accept %" PRIu64 ", NOT ok %" PRIu64 "\n",
              r.runs > 1 ? "all runs: " : "", r.count[kOkContinue], r.count[kOkAccept], bad);
  if (label != "median") {
    double client = r.client_cpu;
    std::printf("        %" PRIu64
                " connections, %.1f packets sent and %.1f replies read per "
                "message; machine busy %.2f cores: milter_load %.2f (%.0f us/msg), ",
                r.connections, static_cast<double>(r.packets) / r.messages,
                static_cast<double>(r.replies) / r.messages, r.machine_busy / r.seconds,
                client / r.seconds, client / r.messages * 1e6);
    if (r.filter1.ok) {
      std::printf("filter %.2f, others %.2f", filter / r.seconds,
                  std::max(0.0, r.machine_busy - client - filter) / r.seconds);
    } else {
      std::printf("filter and others %.2f (no --pid)",
                  std::max(0.0, r.machine_busy - client) / r.seconds);
    }
    if (o.rate > 0) {
      std::printf("; paced at %.0f msg/s: start lag p99 %.2f ms", o.rate, r.lag_p99 * 1e3);
    }
    if (r.edits) std::printf("; %" PRIu64 " edit or quarantine requests (ignored)", r.edits);
    std::printf("\n");
    if (r.count[kEarlyAccept]) {
      std::printf("        %" PRIu64
                  " messages ACCEPTed before the end of message (content "
                  "not filtered): NOT ok\n",
                  r.count[kEarlyAccept]);
    }
    for (const auto& [what, k] : r.not_ok) {
      std::printf("        NOT ok: %" PRIu64 " x %s\n", k, what.c_str());
    }
  }
  // One line for scripts.
  std::printf("result %s messages=%" PRIu64 " ok=%.0f not_ok=%" PRIu64
              " seconds=%.3f msg_per_s=%.1f mb_per_s=%.2f eom_p50_ms=%.3f eom_p99_ms=%.3f "
              "eom_max_ms=%.3f",
              label == "median" ? "median" : ("run=" + label.substr(4)).c_str(), r.messages, r.ok(),
              bad, r.seconds, r.rate(), r.mbps(), r.eom_p50 * 1e3, r.eom_p99 * 1e3,
              r.eom_max * 1e3);
  if (r.filter1.ok) {
    std::printf(" filter_cpu_us=%.1f filter_hwm_kb=%" PRIu64 " filter_rss_kb=%" PRIu64
                " filter_max_threads=%" PRIu64,
                filter / r.messages * 1e6, r.filter1.hwm_kb, r.filter1.rss_kb,
                std::max(r.max_threads, r.filter1.threads));
  }
  if (label != "median") {
    std::printf(" client_cpu_us=%.1f busy_cores=%.2f lag_p99_ms=%.3f",
                r.client_cpu / r.messages * 1e6, r.machine_busy / r.seconds, r.lag_p99 * 1e3);
    if (r.filter1.ok) {
      std::printf(" others_cores=%.2f",
                  std::max(0.0, r.machine_busy - r.client_cpu - filter) / r.seconds);
    }
  }
  std::printf("\n");
  std::fflush(stdout);
}

// Each figure's median over the runs, taken on its own; counts are summed.
Run MedianRun(const std::vector<Run>& runs) {
  auto med = [&](const std::function<double(const Run&)>& f) {
    std::vector<double> v;
    for (const Run& r : runs) v.push_back(f(r));
    return bench::Median(v);
  };
  Run m;
  m.messages = runs[0].messages;
  m.seconds = med([](const Run& r) { return r.seconds; });
  m.bytes = static_cast<uint64_t>(med([](const Run& r) { return double(r.bytes); }));
  m.eom_p50 = med([](const Run& r) { return r.eom_p50; });
  m.eom_p99 = med([](const Run& r) { return r.eom_p99; });
  m.eom_max = med([](const Run& r) { return r.eom_max; });
  m.filter0 = runs[0].filter0;
  m.filter1 = runs.back().filter1;
  m.filter1.cpu = m.filter0.cpu + med([](const Run& r) { return r.filter_cpu(); });
  m.filter1.hwm_kb = static_cast<uint64_t>(med([](const Run& r) { return r.filter1.hwm_kb; }));
  m.filter1.rss_kb = static_cast<uint64_t>(med([](const Run& r) { return r.filter1.rss_kb; }));
  m.max_threads = static_cast<uint64_t>(med([](const Run& r) { return r.max_threads; }));
  m.peak_reset = runs[0].peak_reset;
  m.runs = static_cast<int>(runs.size());
  for (const Run& r : runs) {
    for (int i = 0; i < kOutcomes; ++i) m.count[i] += r.count[i];
  }
  return m;
}

// ---------------------------------------------------------------------------------------

void PrintHeader(const Options& o, int argc, char** argv, size_t pool_size, size_t chunks) {
  char cwd[4096] = {0};
  if (getcwd(cwd, sizeof cwd - 1) == nullptr) std::strcpy(cwd, ".");
  std::string device;
  std::printf(
      "milter_load: the MTA side of the milter protocol (version 6, as Postfix 3.7 "
      "speaks it) against one filter\n");
  bench::PrintMachineLines();
  std::printf("disk:     of the current directory %s: %s\n", cwd,
              bench::DiskOf(cwd, &device).c_str());
  std::string cmdline;
  for (int i = 0; i < argc; ++i) cmdline += std::string(i ? " " : "") + argv[i];
  std::printf("command:  %s\n", cmdline.c_str());
  if (o.pid > 0) {
    std::string args = bench::ReadFile("/proc/" + std::to_string(o.pid) + "/cmdline");
    std::replace(args.begin(), args.end(), '\0', ' ');
    std::printf("filter:   %s, pid %d: %s\n", o.socket.c_str(), static_cast<int>(o.pid),
                bench::TrimRight(args).c_str());
  } else {
    std::printf("filter:   %s (no --pid: its CPU and memory are not measured)\n", o.socket.c_str());
  }
  std::string pacing = o.rate > 0 ? "paced at " + std::to_string(static_cast<uint64_t>(o.rate)) +
                                        " messages/s started"
                                  : "each connection sends as soon as answered";
  std::printf("params:   %d connections, %" PRIu64 " messages/run, %" PRIu64
              " per connection, %" PRIu64
              " bytes/message (%s: 11 headers, body in %zu "
              "chunk%s; %zu distinct messages), %d recipients, %s, %s, %d runs\n",
              o.connections, o.messages, o.per_connection, o.size,
              o.random_content ? "random body" : "mail-like text", chunks, chunks == 1 ? "" : "s",
              pool_size, o.recipients, o.auth ? "authenticated (SASL macros)" : "no SASL",
              pacing.c_str(), o.runs);
  std::printf(
      "columns:  msg/s and MB/s (message bytes, headers included) over the run; EOM = "
      "from sending BODYEOB to the final answer; filter CPU = /proc/PID/stat utime + "
      "stime during the run / messages; peak RSS = VmHWM (reset before each run when "
      "permitted); NOT ok = messages whose answer was not CONTINUE or ACCEPT at "
      "BODYEOB\n");
  std::fflush(stdout);
}

int Main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) return 2;
  Endpoint endpoint;
  Status s = ParseEndpoint(o.socket, &endpoint);
  if (!s.ok()) Die("--socket", s);
  signal(SIGPIPE, SIG_IGN);

  if (o.negotiate_only) {
    Connection probe(o, endpoint, 0);
    s = probe.Open();
    if (!s.ok()) Die("negotiating with the filter", s);
    probe.Quit();
    std::printf("version=%u actions=0x%x steps=0x%x\n", probe.negotiated().version,
                probe.negotiated().actions, probe.negotiated().steps);
    return 0;
  }

  // A pool of distinct messages made before timing (at most about 128 MB of them).
  size_t pool_size = static_cast<size_t>(std::clamp<uint64_t>(128000000 / o.size, 1, 256));
  std::vector<bench::MailMessage> pool;
  Random gen(42);
  for (size_t i = 0; i < pool_size; ++i) {
    pool.push_back(bench::MakeMailMessage(&gen, i, o.size, o.random_content));
  }
  size_t chunks = (pool[0].body.size() + kChunk - 1) / kChunk;
  if (o.header) PrintHeader(o, argc, argv, pool_size, chunks);
  if (o.header || o.sync_probe) {
    // The disk under the filter's journal, when run from there: a synced commit waits at
    // least this long.
    std::vector<double> ms = bench::SyncProbe(".", 200);
    std::printf(
        "sync:     4 KB write + fdatasync in the current directory, 200 probes: p50 %.2f "
        "p99 %.2f max %.2f ms\n",
        bench::Percentile(ms, 0.5), bench::Percentile(ms, 0.99), ms.empty() ? 0.0 : ms.back());
  }

  // What the filter negotiates, from a connection that only negotiates and quits.
  Connection probe(o, endpoint, 0);
  s = probe.Open();
  if (!s.ok()) Die("negotiating with the filter", s);
  const Negotiated n = probe.negotiated();
  probe.Quit();
  std::printf("filter negotiated: version %u, actions 0x%x, steps 0x%x: %s%s%s\n", n.version,
              n.actions, n.steps, StepNames(n.steps).c_str(),
              n.macro_lists.empty() ? "" : "; its macro lists: ", n.macro_lists.c_str());
  std::fflush(stdout);

  std::vector<Run> runs;
  bool all_ok = true;
  for (int i = 0; i < o.runs; ++i) {
    Run r = RunOnce(o, endpoint, pool, i + 1);
    PrintRun(o, "run " + std::to_string(i + 1), r);
    all_ok = all_ok && r.ok() == r.messages;
    runs.push_back(r);
  }
  if (o.runs > 1) PrintRun(o, "median", MedianRun(runs));
  if (!all_ok) {
    std::printf("milter_load: NOT every message ended with CONTINUE or ACCEPT (see NOT ok)\n");
  }
  return all_ok ? 0 : 1;
}

}  // namespace
}  // namespace mailjournal

int main(int argc, char** argv) { return mailjournal::Main(argc, argv); }
