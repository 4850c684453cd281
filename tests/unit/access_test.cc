// Access control and the audit trail (issue 7): what the policy's access roles grant a
// caller (PermissionsUnder), how the admin handler enforces it for list, show and export,
// the access entry every request but status appends before its answer, and the audit
// operation that reads them back.
#include "mailjournal/access.h"

#include <grp.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "fault_env.h"
#include "leveldb_journal.h"
#include "mailjournal/admin_protocol.h"
#include "mailjournal/audit_admin.h"
#include "mailjournal/message_writer.h"
#include "mailjournal/policy_holder.h"
#include "test_util.h"

namespace mailjournal {
namespace {

using nlohmann::json;
using Seqs = std::vector<uint64_t>;

void Write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::trunc) << text;
}

struct SystemGroup {
  gid_t gid;
  std::string name;
};

// Two groups of this system's group database (not root's), so that roles can name them.
std::vector<SystemGroup> TwoGroups() {
  std::vector<SystemGroup> out;
  setgrent();
  for (struct group* g = getgrent(); g != nullptr && out.size() < 2; g = getgrent()) {
    if (g->gr_gid != 0) out.push_back({g->gr_gid, g->gr_name});
  }
  endgrent();
  BOOST_REQUIRE_MESSAGE(out.size() == 2, "the system has fewer than two groups besides root");
  return out;
}

constexpr uid_t kOwner = 4242;  // the daemon's user in these tests

// A policy with departments retail, brokerage and default, and roles:
//   retail-officers: user olga and the members of group A: search, read, export on retail;
//   brokerage-search: user sam: search on brokerage;
//   auditors: user audrey: audit on every department ("*");
//   supervisors: the members of group B: read on "*".
// Written into `dir` with the escrow key; returns the policy file's path.
std::string WritePolicy(const std::string& dir, const std::vector<SystemGroup>& groups) {
  Write(dir + "/keys/escrow.pem", ReadCaseFile("keys/escrow.pem"));
  Write(dir + "/policy.yaml",
        "version: 1\n"
        "retention: {r5: 5y, r7: 7y}\n"
        "escrow: [keys/escrow.pem]\n"
        "departments:\n"
        "  - {name: retail, members: [\"@retail.example\"], retention: r5}\n"
        "  - {name: brokerage, members: [\"@brokerage.example\"], retention: r7}\n"
        "  - {name: default, retention: r7}\n"
        "access:\n"
        "  - role: retail-officers\n"
        "    users: [olga]\n"
        "    groups: [" +
            groups[0].name +
            "]\n"
            "    departments: [retail]\n"
            "    operations: [search, read, export]\n"
            "  - role: brokerage-search\n"
            "    users: [sam]\n"
            "    departments: [brokerage]\n"
            "    operations: [search]\n"
            "  - role: auditors\n"
            "    users: [audrey]\n"
            "    departments: [\"*\"]\n"
            "    operations: [audit]\n"
            "  - role: supervisors\n"
            "    groups: [" +
            groups[1].name +
            "]\n"
            "    departments: [\"*\"]\n"
            "    operations: [read]\n");
  return dir + "/policy.yaml";
}

std::shared_ptr<const Policy> LoadOrFail(const std::string& path) {
  std::shared_ptr<const Policy> policy;
  std::vector<PolicyError> errors;
  bool ok = LoadPolicy(path, DiskFileReader(), &policy, &errors);
  for (const PolicyError& e : errors) BOOST_TEST_MESSAGE(e.ToString());
  BOOST_REQUIRE(ok);
  return policy;
}

// A caller with a uid no account has (the name is what the socket's look-up would give),
// primary group `gid` (a gid that no group has, unless given) and these supplementary
// groups.
Caller Person(uint32_t uid, const std::string& user, uint32_t gid = 4000000000u,
              std::vector<uint32_t> groups = {}) {
  Caller c;
  c.uid = uid;
  c.user = user;
  c.gid = gid;
  c.groups = std::move(groups);
  c.pid = 1;
  return c;
}

const char* const kOps[] = {"search", "read",   "export", "hold",
                            "purge",  "verify", "audit",  "policy"};

BOOST_AUTO_TEST_SUITE(access)

BOOST_AUTO_TEST_CASE(a_role_applies_to_the_users_it_names) {
  TempDir dir;
  auto groups = TwoGroups();
  auto policy = LoadOrFail(WritePolicy(dir.path(), groups));
  auto olga = PermissionsUnder(policy.get(), Person(5001, "olga"), kOwner);
  BOOST_TEST(olga->Allows("search", "retail"));
  BOOST_TEST(olga->Allows("read", "retail"));
  BOOST_TEST(olga->Allows("export", "retail"));
  BOOST_TEST(!olga->Allows("search", "brokerage"));
  BOOST_TEST(!olga->Allows("hold", "retail"));
  BOOST_TEST(!olga->Allows("audit", "retail"));
  BOOST_TEST(olga->AllowsSome("export"));
  BOOST_TEST(!olga->AllowsSome("verify"));
  BOOST_TEST(!olga->AllowsAll("search"));
  BOOST_TEST(olga->AllowsAny("export", {"brokerage", "retail"}));
  BOOST_TEST(!olga->AllowsAny("export", {"brokerage", "default"}));
  // The name decides, not the uid: another name with the same uid gets nothing.
  auto other = PermissionsUnder(policy.get(), Person(5001, "olga2"), kOwner);
  for (const char* op : kOps) BOOST_TEST(!other->AllowsSome(op), op);
  // A uid without an account (no name) matches no user.
  auto nameless = PermissionsUnder(policy.get(), Person(5001, ""), kOwner);
  for (const char* op : kOps) BOOST_TEST(!nameless->AllowsSome(op), op);
}

BOOST_AUTO_TEST_CASE(a_role_applies_to_members_of_its_groups_primary_or_supplementary) {
  TempDir dir;
  auto groups = TwoGroups();
  auto policy = LoadOrFail(WritePolicy(dir.path(), groups));
  auto primary = PermissionsUnder(policy.get(), Person(5002, "pat", groups[0].gid), kOwner);
  BOOST_TEST(primary->Allows("export", "retail"));
  BOOST_TEST(!primary->Allows("export", "brokerage"));
  auto supplementary =
      PermissionsUnder(policy.get(), Person(5003, "quinn", 4000000000u, {groups[0].gid}), kOwner);
  BOOST_TEST(supplementary->Allows("search", "retail"));
  BOOST_TEST(!supplementary->Allows("read", "default"));
  // Members of both groups get the union of both roles.
  auto both =
      PermissionsUnder(policy.get(), Person(5004, "rita", groups[1].gid, {groups[0].gid}), kOwner);
  BOOST_TEST(both->Allows("export", "retail"));
  BOOST_TEST(both->Allows("read", "brokerage"));
  BOOST_TEST(!both->Allows("export", "brokerage"));
  auto nobody = PermissionsUnder(policy.get(), Person(5005, "stan"), kOwner);
  for (const char* op : kOps) BOOST_TEST(!nobody->AllowsSome(op), op);
}

BOOST_AUTO_TEST_CASE(a_star_grants_every_department_even_one_added_later) {
  TempDir dir;
  auto groups = TwoGroups();
  auto policy = LoadOrFail(WritePolicy(dir.path(), groups));
  auto audrey = PermissionsUnder(policy.get(), Person(5006, "audrey"), kOwner);
  BOOST_TEST(audrey->AllowsAll("audit"));
  BOOST_TEST(audrey->Allows("audit", "retail"));
  BOOST_TEST(audrey->Allows("audit", "a-department-of-next-year"));
  BOOST_TEST(!audrey->AllowsSome("search"));
  // A role on named departments does not grant them all.
  auto sam = PermissionsUnder(policy.get(), Person(5007, "sam"), kOwner);
  BOOST_TEST(sam->AllowsSome("search"));
  BOOST_TEST(!sam->AllowsAll("search"));
}

BOOST_AUTO_TEST_CASE(root_and_the_journal_owner_are_granted_everything_even_without_a_policy) {
  TempDir dir;
  auto groups = TwoGroups();
  auto policy = LoadOrFail(WritePolicy(dir.path(), groups));
  for (const Policy* p : {policy.get(), static_cast<const Policy*>(nullptr)}) {
    for (const Caller& c : {Person(0, "root", 0), Person(kOwner, "mailjournal")}) {
      auto may = PermissionsUnder(p, c, kOwner);
      for (const char* op : kOps) {
        BOOST_TEST(may->AllowsAll(op), op);
        BOOST_TEST(may->Allows(op, "retail"), op);
      }
    }
    // Anyone else gets nothing without a policy.
    if (p == nullptr) {
      auto olga = PermissionsUnder(p, Person(5001, "olga"), kOwner);
      for (const char* op : kOps) BOOST_TEST(!olga->AllowsSome(op), op);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

// ------------------------------------------------------------------------------------------
// The handler's enforcement and the audit trail.

// A journal with the policy above in force and four messages:
//   retail_seq (retail), brokerage_seq (brokerage), both_seq (brokerage and retail),
//   default_seq (default).
struct HandlerFixture {
  HandlerFixture()
      : groups(TwoGroups()),
        journal(OpenTestJournal(dir.path() + "/journal")),
        holder(WritePolicy(dir.path() + "/policy", groups), journal.get()),
        handler(journal.get(), {"offline", 0, dir.path()}, RolePermissions(&holder, kOwner)) {
    std::vector<PolicyError> errors;
    uint64_t policy_seq = 0;
    BOOST_REQUIRE(holder.Load("start", &errors, &policy_seq).ok());
    AddAuditOperations(journal.get(), &handler);
    retail_seq = Commit({"retail"}, "retail");
    brokerage_seq = Commit({"brokerage"}, "brokerage");
    both_seq = Commit({"brokerage", "retail"}, "both");
    default_seq = Commit({"default"}, "default");
  }

  uint64_t Commit(std::vector<std::string> departments, const std::string& text) {
    MessageWriter w(journal.get());
    BOOST_REQUIRE(w.Append("Subject: " + text + "\r\n\r\n" + text + "\r\n").ok());
    Envelope env;
    env.mail = {"<" + text + "@example.org>"};
    env.rcpt = {{"<rcpt@example.net>"}};
    MessageEntry m = TestMessage(env);
    m.classification.departments = std::move(departments);
    uint64_t seq = 0;
    BOOST_REQUIRE(w.Commit(m, nullptr, &seq, nullptr).ok());
    return seq;
  }

  Recorder Call(const Caller& caller, json request) {
    request["v"] = 1;
    Recorder r(journal.get());
    BOOST_REQUIRE(handler.Handle(request, caller, &r).ok());
    return r;
  }

  static Seqs SeqsOf(const json& entries) {
    Seqs out;
    for (const json& e : entries) out.push_back(e["seq"].get<uint64_t>());
    return out;
  }

  // The journal's newest entry, which must be an access entry.
  AccessEntry LastAccess() {
    Entry e;
    BOOST_REQUIRE(journal->ReadEntry(journal->LastSequence(), &e).ok());
    BOOST_REQUIRE(e.kind == EntryKind::kAccess);
    return e.access;
  }

  TempDir dir;
  std::vector<SystemGroup> groups;
  std::unique_ptr<Journal> journal;
  PolicyHolder holder;
  AdminHandler handler;
  uint64_t retail_seq = 0, brokerage_seq = 0, both_seq = 0, default_seq = 0;

  const Caller olga = Person(5001, "olga");
  const Caller sam = Person(5007, "sam");
  const Caller audrey = Person(5006, "audrey");
  const Caller bob = Person(5010, "bob");  // no role
  const Caller root = Person(0, "root", 0);
};

using Ranges = std::vector<std::pair<uint64_t, uint64_t>>;

BOOST_AUTO_TEST_SUITE(access_enforcement)

BOOST_FIXTURE_TEST_CASE(list_shows_only_the_messages_of_departments_the_caller_may_search,
                        HandlerFixture) {
  Recorder r = Call(olga, {{"op", "list"}});
  BOOST_REQUIRE_MESSAGE(r.header["ok"] == true, r.header.dump());
  BOOST_TEST(SeqsOf(r.header["entries"]) == (Seqs{retail_seq, both_seq}));
  AccessEntry a = LastAccess();
  BOOST_TEST(a.operation == "list");
  BOOST_TEST(a.actor.uid == 5001u);
  BOOST_TEST(a.actor.user == "olga");
  BOOST_TEST(a.allowed);
  BOOST_TEST(a.outcome == "");
  BOOST_TEST((a.seqs == Ranges{{retail_seq, retail_seq}, {both_seq, both_seq}}));

  BOOST_TEST(SeqsOf(Call(sam, {{"op", "list"}}).header["entries"]) ==
             (Seqs{brokerage_seq, both_seq}));
  // Without the audit grant, "all" adds no entry of another kind.
  BOOST_TEST(SeqsOf(Call(olga, {{"op", "list"}, {"all", true}}).header["entries"]) ==
             (Seqs{retail_seq, both_seq}));
  // Root sees every message, and with "all" the policy and access entries too.
  BOOST_TEST(SeqsOf(Call(root, {{"op", "list"}}).header["entries"]) ==
             (Seqs{retail_seq, brokerage_seq, both_seq, default_seq}));
  uint64_t last = journal->LastSequence();
  Seqs every = SeqsOf(Call(root, {{"op", "list"}, {"all", true}}).header["entries"]);
  BOOST_TEST(every.size() == last);
  BOOST_TEST(LastAccess().actor.user == "root");
  BOOST_TEST(LastAccess().actor.uid == 0u);
}

BOOST_FIXTURE_TEST_CASE(list_is_refused_to_a_caller_without_search_and_recorded, HandlerFixture) {
  for (const Caller& c : {bob, audrey}) {
    Recorder r = Call(c, {{"op", "list"}, {"rcpt", "rcpt@"}});
    BOOST_TEST(r.header["ok"] == false);
    BOOST_TEST(r.header["error"]["code"] == "permission_denied");
    BOOST_TEST(r.header["error"]["message"] ==
               "user " + c.user + " (uid " + std::to_string(c.uid) +
                   ") may not search messages: no access role of the policy grants it");
    BOOST_TEST(!r.header.contains("entries"));
    AccessEntry a = LastAccess();
    BOOST_TEST(a.operation == "list");
    BOOST_TEST(a.actor.user == c.user);
    BOOST_TEST(a.actor.uid == c.uid);
    BOOST_TEST(!a.allowed);
    BOOST_TEST(a.outcome == r.header["error"]["message"].get<std::string>());
    BOOST_TEST(a.seqs.empty());
    BOOST_TEST(json::parse(a.arguments) == (json{{"rcpt", "rcpt@"}}));
  }
}

BOOST_FIXTURE_TEST_CASE(show_needs_search_read_or_export_on_one_of_the_departments,
                        HandlerFixture) {
  // olga: retail; the message of brokerage and retail is hers too.
  for (uint64_t seq : {retail_seq, both_seq}) {
    Recorder r = Call(olga, {{"op", "show"}, {"seq", seq}});
    BOOST_TEST(r.header["ok"] == true);
    BOOST_TEST((LastAccess().seqs == Ranges{{seq, seq}}));
  }
  for (uint64_t seq : {brokerage_seq, default_seq}) {
    Recorder r = Call(olga, {{"op", "show"}, {"seq", seq}});
    BOOST_TEST(r.header["error"]["code"] == "permission_denied");
    BOOST_TEST(r.header["error"]["message"] == "user olga (uid 5001) may not read message " +
                                                   std::to_string(seq) +
                                                   ": no access role of the policy grants it");
    BOOST_TEST(!r.header.contains("entry"));
    AccessEntry a = LastAccess();
    BOOST_TEST(a.operation == "show");
    BOOST_TEST(!a.allowed);
    BOOST_TEST(a.seqs.empty());
    BOOST_TEST(json::parse(a.arguments) == (json{{"seq", seq}}));
  }
  // sam may search brokerage: showing its metadata is allowed.
  BOOST_TEST(Call(sam, {{"op", "show"}, {"seq", brokerage_seq}}).header["ok"] == true);
  // Entries of other kinds (the policy entry, 1) need the audit grant.
  BOOST_TEST(Call(olga, {{"op", "show"}, {"seq", 1}}).header["error"]["code"] ==
             "permission_denied");
  BOOST_TEST(Call(audrey, {{"op", "show"}, {"seq", 1}}).header["ok"] == true);
  BOOST_TEST(Call(bob, {{"op", "show"}, {"seq", retail_seq}}).header["error"]["code"] ==
             "permission_denied");
}

BOOST_FIXTURE_TEST_CASE(export_needs_export_and_reading_the_content_needs_read, HandlerFixture) {
  Recorder ok = Call(olga, {{"op", "export"}, {"seq", retail_seq}});
  BOOST_REQUIRE(ok.header["ok"] == true);
  BOOST_TEST(ok.payload == "Subject: retail\r\n\r\nretail\r\n");
  BOOST_TEST(ok.trailer["ok"] == true);
  BOOST_TEST((LastAccess().seqs == Ranges{{retail_seq, retail_seq}}));
  BOOST_TEST(LastAccess().operation == "export");

  for (const Caller& c : {olga, sam, bob}) {
    Recorder r = Call(c, {{"op", "export"}, {"seq", brokerage_seq}});
    BOOST_TEST(r.header["error"]["code"] == "permission_denied");
    BOOST_TEST(r.header["error"]["message"].get<std::string>().find(
                   "may not export message " + std::to_string(brokerage_seq)) != std::string::npos);
    BOOST_TEST(r.payload.empty());
    BOOST_TEST(r.trailer.is_null());
    AccessEntry a = LastAccess();
    BOOST_TEST(a.operation == "export");
    BOOST_TEST(a.actor.user == c.user);
    BOOST_TEST(!a.allowed);
  }
  // Group B's members may read everything but export nothing.
  Caller supervisor = Person(5020, "sue", groups[1].gid);
  BOOST_TEST(Call(supervisor, {{"op", "export"}, {"seq", brokerage_seq}}).header["error"]["code"] ==
             "permission_denied");
  Recorder read = Call(supervisor, {{"op", "export"}, {"seq", brokerage_seq}, {"purpose", "read"}});
  BOOST_TEST(read.header["ok"] == true);
  BOOST_TEST(read.payload == "Subject: brokerage\r\n\r\nbrokerage\r\n");
  // sam may search brokerage but not read it.
  BOOST_TEST(Call(sam, {{"op", "export"}, {"seq", brokerage_seq}, {"purpose", "read"}})
                 .header["error"]["message"]
                 .get<std::string>()
                 .find("may not read message") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(every_request_but_status_is_recorded_before_its_answer, HandlerFixture) {
  uint64_t before = journal->LastSequence();
  Recorder status = Call(bob, {{"op", "status"}});
  BOOST_TEST(status.header["ok"] == true);
  BOOST_TEST(journal->LastSequence() == before);  // status is not recorded

  // Allowed, refused and failed requests: each appends exactly one access entry, already
  // in the journal when the answer is written.
  struct Case {
    Caller caller;
    json request;
    bool allowed;
    std::string code;  // "" for success
  };
  std::vector<Case> cases = {
      {olga, {{"op", "show"}, {"seq", retail_seq}}, true, ""},
      {olga, {{"op", "show"}, {"seq", brokerage_seq}}, false, "permission_denied"},
      {olga, {{"op", "show"}, {"seq", 999}}, true, "not_found"},
      {olga, {{"op", "audit"}}, false, "permission_denied"},
      {root, {{"op", "show"}, {"seq", "x"}}, true, "bad_request"},
      {bob, {{"op", "export"}, {"seq", retail_seq}}, false, "permission_denied"},
  };
  for (const Case& c : cases) {
    uint64_t last = journal->LastSequence();
    Recorder r = Call(c.caller, c.request);
    BOOST_TEST_CONTEXT(c.request.dump()) {
      BOOST_TEST(journal->LastSequence() == last + 1);
      BOOST_TEST(r.last_seq_at_header == last + 1);
      BOOST_TEST(r.header["ok"] == c.code.empty());
      if (!c.code.empty()) BOOST_TEST(r.header["error"]["code"] == c.code);
      AccessEntry a = LastAccess();
      BOOST_TEST(a.operation == c.request["op"].get<std::string>());
      BOOST_TEST(a.actor.uid == c.caller.uid);
      BOOST_TEST(a.actor.user == c.caller.user);
      BOOST_TEST(a.allowed == c.allowed);
      BOOST_TEST(a.outcome ==
                 (c.code.empty() ? "" : r.header["error"]["message"].get<std::string>()));
      json args = c.request;
      args.erase("op");
      BOOST_TEST(json::parse(a.arguments) == args);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_request_whose_access_cannot_be_recorded_is_refused) {
  TempDir dir;
  FaultEnv env;
  JournalOptions options;
  options.dir = dir.path();
  std::unique_ptr<Journal> journal;
  BOOST_REQUIRE(OpenLevelDbJournal(options, &env, &journal).ok());
  uint64_t seq = CommitBytes(journal.get(), "Subject: x\r\n\r\nsecret\r\n", "a@example.org");
  AdminHandler handler(journal.get(), {"offline", 0, dir.path()},
                       [](const Caller&) { return AllPermissions(); });
  env.FailAt(FaultEnv::Op::kWrite, 1, FaultEnv::FileKind::kLog);
  Recorder r;
  // Answered with the refusal, which Handle also returns (the server then closes the
  // connection).
  Status s = handler.Handle({{"v", 1}, {"op", "export"}, {"seq", seq}}, Person(0, "root", 0), &r);
  BOOST_TEST((s.code() == Status::Code::kIOError));
  BOOST_TEST(r.header["ok"] == false);
  BOOST_TEST(r.header["error"]["code"] == "io_error");
  BOOST_TEST(r.header["error"]["message"].get<std::string>().find(
                 "audit trail: the access cannot be recorded, so it is refused") == 0u);
  BOOST_TEST(r.payload.empty());
  BOOST_TEST(r.trailer.is_null());
  BOOST_TEST(journal->LastSequence() == seq);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(audit_operation)

// Makes a small trail: olga lists, shows and is refused; sam lists; bob is refused.
struct TrailFixture : HandlerFixture {
  TrailFixture() {
    first_access = journal->LastSequence() + 1;
    Call(olga, {{"op", "list"}});                            // +0: returns retail, both
    Call(olga, {{"op", "show"}, {"seq", retail_seq}});       // +1
    Call(olga, {{"op", "export"}, {"seq", brokerage_seq}});  // +2: refused
    Call(sam, {{"op", "list"}});                             // +3: returns brokerage, both
    Call(bob, {{"op", "export"}, {"seq", retail_seq}});      // +4: refused
    last_access = journal->LastSequence();
  }

  Seqs Audit(json request, const Caller& caller) {
    request["op"] = "audit";
    Recorder r = Call(caller, request);
    BOOST_REQUIRE_MESSAGE(r.header["ok"] == true, r.header.dump());
    return SeqsOf(r.header["entries"]);
  }
  Seqs Audit(json request) { return Audit(std::move(request), audrey); }
  Seqs Trail(std::initializer_list<uint64_t> offsets) {
    Seqs out;
    for (uint64_t o : offsets) out.push_back(first_access + o);
    return out;
  }

  uint64_t first_access = 0, last_access = 0;
};

BOOST_FIXTURE_TEST_CASE(audit_returns_access_entries_filtered_by_user_operation_and_seq,
                        TrailFixture) {
  BOOST_TEST(Audit(json::object()) == Trail({0, 1, 2, 3, 4}));
  BOOST_TEST(Audit({{"user", "olga"}}) == Trail({0, 1, 2}));
  BOOST_TEST(Audit({{"user", "5001"}}) == Trail({0, 1, 2}));  // a uid
  BOOST_TEST(Audit({{"user", "nobody-here"}}) == Seqs{});
  BOOST_TEST(Audit({{"operation", "export"}}) == Trail({2, 4}));
  BOOST_TEST(Audit({{"operation", "list"}, {"user", "sam"}}) == Trail({3}));
  // The requests about a message: those that returned it, and those that named it.
  BOOST_TEST(Audit({{"seq", both_seq}}) == Trail({0, 3}));
  BOOST_TEST(Audit({{"seq", retail_seq}}) == Trail({0, 1, 4}));
  BOOST_TEST(Audit({{"seq", brokerage_seq}}) == Trail({2, 3}));
  BOOST_TEST(Audit({{"seq", default_seq}}) == Seqs{});
  BOOST_TEST(Audit({{"since", "2999-01-01"}}) == Seqs{});
  BOOST_TEST(Audit({{"until", "2000-01-01"}}) == Seqs{});
  BOOST_TEST(Audit({{"since", "2000-01-01"}, {"user", "bob"}}) == Trail({4}));
}

BOOST_FIXTURE_TEST_CASE(audit_entries_say_who_what_and_whether_it_was_allowed, TrailFixture) {
  Recorder r = Call(audrey, {{"op", "audit"}, {"user", "olga"}});
  const json& e = r.header["entries"];
  BOOST_REQUIRE(e.size() == 3u);
  BOOST_TEST(e[0]["kind"] == "access");
  BOOST_TEST(e[0]["by"] == (json{{"uid", 5001}, {"user", "olga"}}));
  BOOST_TEST(e[0]["operation"] == "list");
  BOOST_TEST(e[0]["allowed"] == true);
  BOOST_TEST(e[0]["seqs"] ==
             json::parse("[[" + std::to_string(retail_seq) + "," + std::to_string(retail_seq) +
                         "],[" + std::to_string(both_seq) + "," + std::to_string(both_seq) + "]]"));
  BOOST_TEST(e[2]["operation"] == "export");
  BOOST_TEST(e[2]["allowed"] == false);
  BOOST_TEST(e[2]["arguments"] == (json{{"seq", brokerage_seq}}));
  BOOST_TEST(e[2]["outcome"].get<std::string>().find("may not export message") !=
             std::string::npos);
  BOOST_TEST(e[2]["seqs"] == json::array());
  // The audit request itself is recorded, with the entries it returned.
  AccessEntry a = LastAccess();
  BOOST_TEST(a.operation == "audit");
  BOOST_TEST(a.actor.user == "audrey");
  BOOST_TEST((a.seqs == Ranges{{first_access, first_access + 2}}));
}

BOOST_FIXTURE_TEST_CASE(audit_pages_like_list, TrailFixture) {
  Recorder page = Call(audrey, {{"op", "audit"}, {"limit", 2}});
  BOOST_TEST(SeqsOf(page.header["entries"]) == Trail({0, 1}));
  BOOST_TEST(page.header["more"] == true);
  BOOST_TEST(Audit({{"after", first_access + 1}, {"before", last_access + 1}}) == Trail({2, 3, 4}));
  BOOST_TEST(Audit({{"reverse", true}, {"limit", 2}, {"before", last_access + 1}}) ==
             Trail({4, 3}));
  BOOST_TEST(Audit({{"reverse", true}, {"before", first_access + 2}, {"after", first_access}}) ==
             Trail({1}));
  Recorder last =
      Call(audrey, {{"op", "audit"}, {"after", first_access + 2}, {"before", last_access + 1}});
  BOOST_TEST(last.header["more"] == false);
}

BOOST_FIXTURE_TEST_CASE(audit_needs_the_audit_grant, TrailFixture) {
  for (const Caller& c : {olga, sam, bob}) {
    Recorder r = Call(c, {{"op", "audit"}});
    BOOST_TEST(r.header["error"]["code"] == "permission_denied");
    BOOST_TEST(r.header["error"]["message"].get<std::string>().find(
                   "may not audit (operation audit)") != std::string::npos);
    BOOST_TEST(!LastAccess().allowed);
  }
  BOOST_TEST(Audit({{"user", "bob"}}, root).size() == 2u);  // bob's export, bob's audit
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
