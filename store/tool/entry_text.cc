#include "entry_text.h"

#include <cstdio>
#include <string>

#include "cli.h"
#include "mailjournal/openssl_util.h"

namespace mailjournal {

using nlohmann::json;

namespace {

std::string Angle(const std::string& addr) { return "<" + addr + ">"; }

// JSON text on one line, bytes that are not UTF-8 replaced.
std::string Compact(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// "alice (uid 1001)", or "uid 1001" for a uid without a name.
std::string ActorDetail(const json& actor) {
  std::string uid = "uid " + std::to_string(actor["uid"].get<uint64_t>());
  const std::string& user = actor["user"].get_ref<const std::string&>();
  return user.empty() ? uid : user + " (" + uid + ")";
}

std::string MessageLine(const json& e) {
  std::string rcpt;
  for (const auto& r : e["rcpt"]) rcpt += (rcpt.empty() ? "" : ",") + Angle(r.get<std::string>());
  const std::string& qid = e["queue_id"].get_ref<const std::string&>();
  return (qid.empty() ? "-" : qid) + " " + Angle(e["mail_from"].get<std::string>()) + " -> " +
         rcpt + " " + std::to_string(e["size"].get<uint64_t>());
}

// What follows "SEQ TIME " on an entry's line.
std::string LineTail(const json& e) {
  const std::string& kind = e["kind"].get_ref<const std::string&>();
  if (kind == "message") return MessageLine(e);
  if (kind == "key") {
    return "key " + e["action"].get<std::string>() + " " + KeyHolderText(e) + " " +
           e["fingerprint"].get<std::string>() + " " + e["file"].get<std::string>();
  }
  if (kind == "checkpoint") {
    return "checkpoint tree_size=" + e.value("tree_size", json("?")).dump() +
           " root=" + e.value("root", std::string("?"));
  }
  if (kind == "hold") {
    std::string scope = ScopeText(e["scope"]);
    return "hold " + e["case"].get<std::string>() + " " + ActorText(e["by"]) +
           (scope.empty() ? "" : " " + scope) + " reason=" + e["reason"].get<std::string>();
  }
  if (kind == "release") {
    return "release " + e["case"].get<std::string>() + " " + ActorText(e["by"]) +
           " reason=" + e["reason"].get<std::string>();
  }
  if (kind == "dispose") {
    return "dispose message=" + std::to_string(e["message"].get<uint64_t>()) + " " +
           ActorText(e["by"]) + " retention=" + e["retention"].get<std::string>() +
           " retain_until=" + e["retain_until"].get<std::string>();
  }
  if (kind == "access") {
    const std::string& outcome = e["outcome"].get_ref<const std::string&>();
    return "access " + ActorText(e["by"]) + " " + e["operation"].get<std::string>() +
           (e["allowed"].get<bool>() ? " allowed " : " REFUSED ") + Compact(e["arguments"]) +
           " seqs=" + RangesText(e["seqs"]) + (outcome.empty() ? "" : " outcome=" + outcome);
  }
  if (kind == "index_key") {
    return "index_key " + e["department"].get<std::string>() + " " +
           e["key_id"].get<std::string>() + " " + e["reason"].get<std::string>() +
           " recipients=" + std::to_string(e["recipients"].size());
  }
  if (kind == "ship") {
    return "ship " + e["action"].get<std::string>() + " " + e["object"].get<std::string>() +
           " seqs=" + std::to_string(e["first"].get<uint64_t>()) + "-" +
           std::to_string(e["last"].get<uint64_t>()) +
           " retain_until=" + e["retain_until"].get<std::string>() +
           " legal_hold=" + (e["legal_hold"].get<bool>() ? "on" : "off");
  }
  if (kind == "review") {
    return "review message=" + std::to_string(e["message"].get<uint64_t>()) + " " +
           ActorText(e["by"]) + " status=" + e["status"].get<std::string>() +
           (e.contains("note_sealed") ? " note=sealed" : "");
  }
  if (kind == "tag") {
    return "tag " + e["action"].get<std::string>() +
           " message=" + std::to_string(e["message"].get<uint64_t>()) + " " + ActorText(e["by"]) +
           " tag=" + Printable(e["tag"].get<std::string>());
  }
  // policy, and kinds this version does not know
  return kind + " " + e.value("digest", "") + " " + e.value("reason", "");
}

void PrintMessageDetails(const json& e) {
  PrintField("queue_id", e["queue_id"].get<std::string>());
  std::string params = JoinStrings(e["mail_params"], " ");
  PrintField("mail_from",
             Angle(e["mail_from"].get<std::string>()) + (params.empty() ? "" : " " + params));
  for (size_t i = 0; i < e["rcpt"].size(); ++i) {
    std::string p = JoinStrings(e["rcpt_params"][i], " ");
    PrintField("rcpt", Angle(e["rcpt"][i].get<std::string>()) + (p.empty() ? "" : " " + p));
  }
  PrintField("client", e["client_name"].get<std::string>() + " [" +
                           e["client_addr"].get<std::string>() +
                           "]:" + std::to_string(e["client_port"].get<int>()));
  PrintField("helo", e["helo"].get<std::string>());
  PrintField("auth", e["auth"].get<std::string>());
  PrintField("daemon", e["daemon"].get<std::string>());
  PrintField("size", std::to_string(e["size"].get<uint64_t>()));
  PrintField("sha256", e["sha256"].get<std::string>());
  PrintField("departments", JoinStrings(e["departments"], ", "));
  PrintField("retention", e["retention"].get<std::string>() + ", retain until " +
                              e["retain_until"].get<std::string>());
  PrintField("policy", e["policy"].get<std::string>());
  std::string flags;
  for (const auto& f : e["flags"]) {
    flags += (flags.empty() ? "" : ", ") + f["lexicon"].get<std::string>() + " (" +
             f["severity"].get<std::string>() + ")";
  }
  if (!flags.empty()) PrintField("flags", flags);
  if (e["sampled"].get<bool>()) PrintField("sampled", "yes");
}

void PrintHoldDetails(const json& e) {
  PrintField("case", Printable(e["case"].get<std::string>()));
  PrintField("by", Printable(ActorDetail(e["by"])));
  PrintField("reason", Printable(e["reason"].get<std::string>()));
  if (!e.contains("scope")) return;  // a release
  const json& scope = e["scope"];
  if (scope.contains("departments")) {
    PrintField("departments", JoinStrings(scope["departments"], ", "));
  }
  if (scope.contains("addresses")) PrintField("addresses", JoinStrings(scope["addresses"], ", "));
  if (scope.contains("since")) PrintField("since", scope["since"].get<std::string>());
  if (scope.contains("until")) PrintField("until", scope["until"].get<std::string>());
  if (scope.contains("seqs")) PrintField("seqs", RangesText(scope["seqs"]));
}

}  // namespace

std::string Printable(const std::string& text) {
  std::string out;
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7f) {
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += std::string("\\x") + kHex[u >> 4] + kHex[u & 15];
    }
  }
  return out;
}

std::string ActorText(const json& actor) {
  return actor["user"].get<std::string>() + "(" + std::to_string(actor["uid"].get<uint64_t>()) +
         ")";
}

std::string RangesText(const json& ranges, const char* sep, const char* none) {
  std::string out;
  for (const json& r : ranges) {
    uint64_t a = r[0].get<uint64_t>(), b = r[1].get<uint64_t>();
    out += (out.empty() ? "" : sep) + std::to_string(a) + (a == b ? "" : "-" + std::to_string(b));
  }
  return out.empty() ? none : out;
}

std::string ScopeText(const json& scope) {
  std::string out;
  auto add = [&out](const char* key, const std::string& value) {
    out += (out.empty() ? "" : " ") + std::string(key) + "=" + value;
  };
  if (scope.contains("departments")) add("departments", JoinStrings(scope["departments"], ","));
  if (scope.contains("addresses")) add("addresses", JoinStrings(scope["addresses"], ","));
  if (scope.contains("since")) add("since", scope["since"].get<std::string>());
  if (scope.contains("until")) add("until", scope["until"].get<std::string>());
  if (scope.contains("seqs")) add("seqs", RangesText(scope["seqs"]));
  return out;
}

std::string EntryLine(const json& e) {
  return Printable(std::to_string(e["seq"].get<uint64_t>()) + " " + e["time"].get<std::string>() +
                   " " + LineTail(e));
}

void PrintEntryDetails(const json& e) {
  PrintField("seq", std::to_string(e["seq"].get<uint64_t>()));
  PrintField("kind", e["kind"].get<std::string>());
  PrintField("time", e["time"].get<std::string>());
  const std::string& kind = e["kind"].get_ref<const std::string&>();
  if (kind == "message") {
    PrintMessageDetails(e);
  } else if (kind == "policy") {
    PrintField("digest", e["digest"].get<std::string>());
    PrintField("reason", e["reason"].get<std::string>());
    for (const auto& f : e["files"]) {
      PrintField("file", f["path"].get<std::string>() + " (" +
                             std::to_string(f["size"].get<uint64_t>()) + " bytes, sha256 " +
                             f["sha256"].get<std::string>() + ")");
    }
  } else if (kind == "checkpoint") {
    PrintField("origin", e.value("origin", std::string("?")));
    PrintField("tree_size", e.value("tree_size", json("?")).dump());
    PrintField("root", e.value("root", std::string("?")));
    std::printf("note:\n%s", e["note"].get<std::string>().c_str());
  } else if (kind == "key") {
    PrintField("action", e["action"].get<std::string>());
    PrintField("holder", KeyHolderText(e));
    PrintField("fingerprint", e["fingerprint"].get<std::string>());
    PrintField("file", e["file"].get<std::string>());
    PrintField("policy", e["policy"].get<std::string>());
  } else if (kind == "hold" || kind == "release") {
    PrintHoldDetails(e);
  } else if (kind == "dispose") {
    PrintField("message", std::to_string(e["message"].get<uint64_t>()));
    PrintField("retention", e["retention"].get<std::string>() + ", retain until " +
                                e["retain_until"].get<std::string>());
    PrintField("policy", e["policy"].get<std::string>());
    PrintField("by", Printable(ActorDetail(e["by"])));
  } else if (kind == "access") {
    PrintField("by", Printable(ActorDetail(e["by"])));
    PrintField("operation", Printable(e["operation"].get<std::string>()));
    PrintField("allowed", e["allowed"].get<bool>() ? "yes" : "no (refused)");
    PrintField("arguments", Compact(e["arguments"]));
    PrintField("seqs", RangesText(e["seqs"]));
    PrintField("outcome", Printable(e["outcome"].get<std::string>()));
  } else if (kind == "index_key") {
    PrintField("department", Printable(e["department"].get<std::string>()));
    PrintField("key_id", e["key_id"].get<std::string>());
    PrintField("reason", Printable(e["reason"].get<std::string>()));
    for (const auto& r : e["recipients"]) PrintField("recipient", r.get<std::string>());
    std::string sealed;
    Base64Decode(e["sealed"].get<std::string>(), &sealed);
    PrintField("sealed", std::to_string(sealed.size()) + " bytes (CMS, opened with --key)");
  } else if (kind == "ship") {
    PrintField("action", e["action"].get<std::string>());
    PrintField("object", Printable(e["object"].get<std::string>()));
    PrintField("version_id", Printable(e["version_id"].get<std::string>()));
    PrintField("size", std::to_string(e["size"].get<uint64_t>()));
    PrintField("sha256", e["sha256"].get<std::string>());
    PrintField("seqs", std::to_string(e["first"].get<uint64_t>()) + "-" +
                           std::to_string(e["last"].get<uint64_t>()));
    PrintField("retain_until", e["retain_until"].get<std::string>());
    PrintField("legal_hold", e["legal_hold"].get<bool>() ? "on" : "off");
  }
}

}  // namespace mailjournal
