#include "milter_callbacks.h"

#include <libmilter/mfapi.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "log.h"
#include "mailjournal/time_util.h"
#include "session.h"

namespace mailjournal {

namespace {

// Who may use the journal: callbacks enter and leave; shutdown closes and waits.
class JournalGate {
 public:
  void Open(Journal* journal, const PolicyHolder* policies, IndexKeyStore* index_keys,
            DaemonMetrics* metrics) {
    std::lock_guard<std::mutex> l(mu_);
    journal_ = journal;
    policies_ = policies;
    index_keys_ = index_keys;
    metrics_ = metrics;
  }
  // The metrics, for a callback inside the gate (between Enter and Leave); may be null.
  DaemonMetrics* metrics() const { return metrics_; }
  // Counts a tempfail; also outside the gate (the metrics are gone once closed).
  void CountTempfail(TempfailReason reason) {
    std::lock_guard<std::mutex> l(mu_);
    if (metrics_ != nullptr) metrics_->Tempfailed(reason, NowMicros());
  }
  const PolicyHolder* policies() const { return policies_; }
  IndexKeyStore* index_keys() const { return index_keys_; }
  // Returns the journal, or null when it is closed (then do not call Leave()).
  Journal* Enter() {
    std::lock_guard<std::mutex> l(mu_);
    if (journal_ == nullptr) return nullptr;
    ++active_;
    return journal_;
  }
  void Leave() {
    std::lock_guard<std::mutex> l(mu_);
    if (--active_ == 0) idle_.notify_all();
  }
  void CloseAndWait() {
    std::unique_lock<std::mutex> l(mu_);
    journal_ = nullptr;
    idle_.wait(l, [this] { return active_ == 0; });
    metrics_ = nullptr;
  }

 private:
  std::mutex mu_;
  std::condition_variable idle_;
  Journal* journal_ = nullptr;              // GUARDED_BY(mu_)
  const PolicyHolder* policies_ = nullptr;  // set before serving, constant after
  IndexKeyStore* index_keys_ = nullptr;     // set before serving, constant after
  DaemonMetrics* metrics_ = nullptr;        // GUARDED_BY(mu_), or read inside the gate
  int active_ = 0;                          // GUARDED_BY(mu_)
};

JournalGate g_gate;

std::string Macro(SMFICTX* ctx, const char* name) {
  const char* v = smfi_getsymval(ctx, const_cast<char*>(name));
  return v == nullptr ? std::string() : std::string(v);
}

std::vector<std::string> Args(char** argv) {
  std::vector<std::string> out;
  for (; argv != nullptr && *argv != nullptr; ++argv) out.emplace_back(*argv);
  return out;
}

// The events the filter does not answer when the MTA offers it (unix: sockets only, see
// RegisterMilter): each unanswered header or body chunk saves a round trip. A failure in
// one of them is kept and answered at the next event that is answered (end of message),
// so no message is accepted without its bytes, as before.
constexpr unsigned long kNoReplySteps =
    SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_DATA | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY;
unsigned long g_no_reply_offered = 0;  // kNoReplySteps or 0; set by RegisterMilter

// Per MTA connection (libmilter's private data).
struct Connection {
  Connection(Journal* journal, const PolicyHolder* policies, IndexKeyStore* index_keys)
      : session(journal, policies, index_keys) {}
  Session session;
  unsigned long no_reply = 0;  // the SMFIP_NR_* steps negotiated
  Status deferred;             // the first failure of an unanswered event of this message
  Status broken;               // a failure of the unanswered connect or HELO: every answer
                               // of this connection is TEMPFAIL then
  TempfailReason deferred_reason = TempfailReason::kInternalError;  // why deferred failed
  TempfailReason broken_reason = TempfailReason::kInternalError;    // why broken failed
};

Connection* GetConnection(SMFICTX* ctx) { return static_cast<Connection*>(smfi_getpriv(ctx)); }

std::string QueueIdForLog(Session* session) {
  if (session == nullptr || session->envelope().queue_id.empty()) return "NOQUEUE";
  return session->envelope().queue_id;
}

// The reply text may hold neither CR nor LF, and '%' must be doubled.
std::string ReplyText(const std::string& reason) {
  std::string out = "mailjournal: cannot journal message: ";
  for (char c : reason) {
    if (c == '\r' || c == '\n') {
      out.push_back(' ');
    } else if (c == '%') {
      out += "%%";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

sfsistat TempFail(SMFICTX* ctx, Session* session, TempfailReason why, const std::string& reason) {
  g_gate.CountTempfail(why);
  Log(LOG_WARNING, "%s: tempfail: %s", QueueIdForLog(session).c_str(), reason.c_str());
  std::string text = ReplyText(reason);
  smfi_setreply(ctx, const_cast<char*>("451"), const_cast<char*>("4.3.0"), &text[0]);
  return SMFIS_TEMPFAIL;
}

// Runs fn(session) with the journal held open; turns every failure into TEMPFAIL. For an
// event the filter does not answer (`step` negotiated no-reply), a failure is deferred to
// the end of the message instead, and the rest of that message's unanswered events are
// skipped. The tempfail's reason is the session's failure_reason(), unless fn sets
// *reason (when given).
template <typename Fn>
sfsistat WithSession(SMFICTX* ctx, unsigned long step, Fn fn,
                     const std::optional<TempfailReason>* reason = nullptr) noexcept {
  Connection* c = GetConnection(ctx);
  Session* session = c == nullptr ? nullptr : &c->session;
  bool answer = c == nullptr || (c->no_reply & step) == 0;
  if (!answer && !c->deferred.ok()) return SMFIS_NOREPLY;
  Status s;
  TempfailReason why = TempfailReason::kInternalError;
  try {
    if (c != nullptr && !c->broken.ok()) {
      s = c->broken;
      why = c->broken_reason;
    } else if (session == nullptr) {
      s = Status::Internal("no connection state");
    } else if (g_gate.Enter() == nullptr) {
      s = Status::Internal("mailjournald is shutting down");
      why = TempfailReason::kShuttingDown;
    } else {
      struct Leave {
        ~Leave() { g_gate.Leave(); }
      } leave;
      s = fn(session);
      if (!s.ok()) why = reason != nullptr && *reason ? **reason : session->failure_reason();
    }
  } catch (const std::exception& e) {
    s = Status::Internal(std::string("internal error: ") + e.what());
    why = TempfailReason::kInternalError;
  } catch (...) {
    s = Status::Internal("internal error");
    why = TempfailReason::kInternalError;
  }
  if (answer) return s.ok() ? SMFIS_CONTINUE : TempFail(ctx, session, why, s.message());
  if (!s.ok()) {
    c->deferred = s;
    c->deferred_reason = why;
    if (step == SMFIP_NR_CONN || step == SMFIP_NR_HELO) {
      c->broken = s;
      c->broken_reason = why;
    }
  }
  return SMFIS_NOREPLY;
}

// Creates the connection's state on its first callback (negotiate, or connect for an MTA
// that does not negotiate). Null when the journal is closed.
Connection* EnsureConnection(SMFICTX* ctx) {
  Connection* c = GetConnection(ctx);
  if (c != nullptr) return c;
  Journal* journal = g_gate.Enter();
  if (journal == nullptr) return nullptr;
  g_gate.Leave();  // the session only keeps the pointer; each use enters the gate again
  c = new Connection(journal, g_gate.policies(), g_gate.index_keys());
  smfi_setpriv(ctx, c);
  return c;
}

sfsistat OnNegotiate(SMFICTX* ctx, unsigned long /*actions*/, unsigned long steps, unsigned long,
                     unsigned long, unsigned long* out_actions, unsigned long* out_steps,
                     unsigned long* out_f2, unsigned long* out_f3) noexcept {
  try {
    Connection* c = EnsureConnection(ctx);
    if (c == nullptr) {
      return TempFail(ctx, nullptr, TempfailReason::kShuttingDown, "mailjournald is shutting down");
    }
    bool leadspc = (steps & SMFIP_HDR_LEADSPC) != 0;
    if (!leadspc) {
      // Without it the MTA drops the space after each header colon and capture cannot be
      // byte-exact: every message of this connection is refused (fail closed).
      Log(LOG_ERR, "the MTA does not offer SMFIP_HDR_LEADSPC; its messages will be tempfailed");
    }
    c->session.set_byte_exact(leadspc);
    c->no_reply = steps & g_no_reply_offered;
    *out_actions = 0;  // the message is never modified
    *out_steps = (steps & (SMFIP_HDR_LEADSPC | SMFIP_NOUNKNOWN)) | c->no_reply;
    *out_f2 = 0;
    *out_f3 = 0;
    return SMFIS_CONTINUE;
  } catch (const std::exception& e) {
    return TempFail(ctx, nullptr, TempfailReason::kInternalError,
                    std::string("internal error: ") + e.what());
  }
}

sfsistat OnConnect(SMFICTX* ctx, char* hostname, _SOCK_ADDR* hostaddr) noexcept {
  Connection* c = nullptr;
  try {
    c = EnsureConnection(ctx);
  } catch (const std::exception& e) {
    Log(LOG_ERR, "internal error: %s", e.what());
  }
  if (c == nullptr) {
    // Without state every later event of this connection tempfails.
    return TempFail(ctx, nullptr, TempfailReason::kShuttingDown, "mailjournald is shutting down");
  }
  return WithSession(ctx, SMFIP_NR_CONN, [&](Session* s) {
    s->Connect(hostname == nullptr ? "" : hostname, hostaddr, Macro(ctx, "{daemon_name}"));
    return Status::OK();
  });
}

sfsistat OnHelo(SMFICTX* ctx, char* helo) noexcept {
  return WithSession(ctx, SMFIP_NR_HELO, [&](Session* s) {
    s->Helo(helo == nullptr ? "" : helo);
    return Status::OK();
  });
}

sfsistat OnMailFrom(SMFICTX* ctx, char** argv) noexcept {
  Connection* c = GetConnection(ctx);
  if (c != nullptr) c->deferred = Status::OK();  // a new message
  return WithSession(ctx, 0, [&](Session* s) {
    Status st = s->MailFrom(Args(argv), Macro(ctx, "{auth_authen}"));
    s->QueueId(Macro(ctx, "i"));
    return st;
  });
}

sfsistat OnRcpt(SMFICTX* ctx, char** argv) noexcept {
  return WithSession(ctx, 0, [&](Session* s) {
    s->Rcpt(Args(argv));
    return Status::OK();
  });
}

sfsistat OnData(SMFICTX* ctx) noexcept {
  return WithSession(ctx, SMFIP_NR_DATA, [&](Session* s) {
    s->QueueId(Macro(ctx, "i"));
    return Status::OK();
  });
}

sfsistat OnHeader(SMFICTX* ctx, char* name, char* value) noexcept {
  return WithSession(ctx, SMFIP_NR_HDR, [&](Session* s) {
    return s->Header(name == nullptr ? "" : name, value == nullptr ? "" : value);
  });
}

sfsistat OnEndOfHeaders(SMFICTX* ctx) noexcept {
  return WithSession(ctx, SMFIP_NR_EOH, [&](Session* s) {
    s->QueueId(Macro(ctx, "i"));
    return s->EndOfHeaders();
  });
}

sfsistat OnBody(SMFICTX* ctx, unsigned char* data, size_t len) noexcept {
  return WithSession(ctx, SMFIP_NR_BODY, [&](Session* s) {
    return s->Body(std::string_view(reinterpret_cast<const char*>(data), len));
  });
}

// Logs, once per process, that a message came without the MTA's queue id: its entry then
// has none and cannot be matched with the MTA's log. Sendmail sends it only as configured
// (the macro i; contrib/sendmail/mailjournal.mc).
void WarnNoQueueIdOnce() {
  static std::atomic<bool> warned{false};
  if (warned.exchange(true)) return;
  Log(LOG_WARNING,
      "the MTA sent no queue id (milter macro i at MAIL FROM, DATA, end of headers or end of "
      "message): journal entries will have none; see mailjournald(8), SENDMAIL");
}

sfsistat OnEndOfMessage(SMFICTX* ctx) noexcept {
  Connection* c = GetConnection(ctx);
  Status deferred = c == nullptr ? Status::OK() : c->deferred;
  std::optional<TempfailReason> reason;
  if (c != nullptr) {
    if (!deferred.ok()) reason = c->deferred_reason;
    c->deferred = Status::OK();
  }
  return WithSession(
      ctx, 0,
      [&](Session* s) {
        s->QueueId(Macro(ctx, "i"));
        if (s->envelope().queue_id.empty()) WarnNoQueueIdOnce();
        if (!deferred.ok()) {
          s->AbortMessage();
          return deferred;
        }
        uint64_t seq = 0;
        MessageEntry entry;
        auto started = std::chrono::steady_clock::now();
        Status st = s->EndOfMessage(&seq, &entry);
        if (st.ok() && s->out_of_scope()) {
          // The queue id only: the point of a narrow scope is not collecting addresses.
          if (g_gate.metrics() != nullptr) g_gate.metrics()->OutOfScope();
          Log(LOG_INFO, "%s: out of capture scope, not journaled", QueueIdForLog(s).c_str());
          return st;
        }
        if (st.ok() && g_gate.metrics() != nullptr) {
          std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
          g_gate.metrics()->MessageCommitted(entry.sealing.plain_size, entry.content.size,
                                             took.count(), s->indexed(), !s->index_note().empty(),
                                             NowMicros());
          g_gate.metrics()->Supervised(!entry.flags.empty(), entry.sampled,
                                       !s->supervision_note().empty());
        }
        if (st.ok()) {
          Log(LOG_INFO, "%s: seq=%llu from=<%s> nrcpt=%zu size=%llu stored=%llu",
              QueueIdForLog(s).c_str(), static_cast<unsigned long long>(seq),
              BareAddress(entry.envelope.mail).c_str(), entry.envelope.rcpt.size(),
              static_cast<unsigned long long>(entry.sealing.plain_size),
              static_cast<unsigned long long>(entry.content.size));
        }
        if (!s->index_note().empty()) {
          Log(LOG_NOTICE, "%s: search index: %s", QueueIdForLog(s).c_str(),
              s->index_note().c_str());
        }
        if (!s->supervision_note().empty()) {
          Log(LOG_WARNING, "%s: supervision: %s", QueueIdForLog(s).c_str(),
              s->supervision_note().c_str());
        }
        return st;
      },
      &reason);
}

sfsistat OnAbort(SMFICTX* ctx) noexcept {
  Connection* c = GetConnection(ctx);
  if (c == nullptr) return SMFIS_CONTINUE;
  c->deferred = Status::OK();
  Session* session = &c->session;
  if (g_gate.Enter() == nullptr) {
    session->AbandonMessage();
    return SMFIS_CONTINUE;
  }
  session->AbortMessage();
  g_gate.Leave();
  return SMFIS_CONTINUE;
}

sfsistat OnClose(SMFICTX* ctx) noexcept {
  Connection* c = GetConnection(ctx);
  if (c == nullptr) return SMFIS_CONTINUE;
  OnAbort(ctx);
  smfi_setpriv(ctx, nullptr);
  delete c;
  return SMFIS_CONTINUE;
}

}  // namespace

Status RegisterMilter(bool unix_socket) {
  g_no_reply_offered = unix_socket ? kNoReplySteps : 0;
  static char name[] = "mailjournal";
  struct smfiDesc desc = {};
  desc.xxfi_name = name;
  desc.xxfi_version = SMFI_VERSION;
  desc.xxfi_flags = 0;  // no modification actions
  desc.xxfi_connect = OnConnect;
  desc.xxfi_helo = OnHelo;
  desc.xxfi_envfrom = OnMailFrom;
  desc.xxfi_envrcpt = OnRcpt;
  desc.xxfi_header = OnHeader;
  desc.xxfi_eoh = OnEndOfHeaders;
  desc.xxfi_body = OnBody;
  desc.xxfi_eom = OnEndOfMessage;
  desc.xxfi_abort = OnAbort;
  desc.xxfi_close = OnClose;
  desc.xxfi_unknown = nullptr;
  // Registered although it only reads the queue id: without a DATA callback an inet:
  // socket stalls ~40 ms per message (Nagle/delayed ACK; notes/milter.md).
  desc.xxfi_data = OnData;
  desc.xxfi_negotiate = OnNegotiate;
  if (smfi_register(desc) != MI_SUCCESS) return Status::Internal("smfi_register failed");
  return Status::OK();
}

void OpenMilterJournal(Journal* journal, const PolicyHolder* policies, IndexKeyStore* index_keys,
                       DaemonMetrics* metrics) {
  g_gate.Open(journal, policies, index_keys, metrics);
}

void CloseMilterJournal() { g_gate.CloseAndWait(); }

}  // namespace mailjournal
