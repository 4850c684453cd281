// The loader: reads mailjournal.yaml(5) with yaml-cpp and checks every key, reporting each
// problem as FILE:LINE:COL (yaml-cpp marks are 0-based, ours 1-based).
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <initializer_list>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "address.h"
#include "key_file.h"
#include "mailjournal/lexicon_matcher.h"
#include "mailjournal/policy.h"
#include "mailjournal/sha256.h"
#include "mailjournal/time_util.h"

namespace mailjournal {

using policy_internal::CheckPublicKeyFile;
using policy_internal::ParsedMember;
using policy_internal::Quoted;

namespace {

constexpr char kNameHint[] =
    "(expected lower-case letters, digits, '_', '.' and '-', starting with a letter or digit)";
constexpr uint32_t kMaxYears = 1000;
constexpr uint32_t kMaxDays = 365000;
constexpr char kIntTag[] = "tag:yaml.org,2002:int";
constexpr char kBoolTag[] = "tag:yaml.org,2002:bool";

// Unix user and group names: no blanks, control characters, ':' or ','.
bool IsValidAccountName(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == ':' || c == ',') return false;
  }
  return true;
}

bool IsDigits(const std::string& text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Parses decimal digits into *value; false on overflow or anything but digits.
bool ParseUint(const std::string& text, uint64_t* value) {
  if (!IsDigits(text) || text.size() > 20) return false;
  uint64_t v = 0;
  for (char c : text) {
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  *value = v;
  return true;
}

std::string LineCol(const YAML::Mark& mark) {
  return std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

// What a node is, for "must be X, not Y" messages.
std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "empty";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Scalar:
      return node.Tag() == "!" ? "the string " + Quoted(node.Scalar()) : Quoted(node.Scalar());
    case YAML::NodeType::Undefined:
      break;
  }
  return "undefined";
}

std::string Join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

// A first pass over the parser's events: where documents start, and where aliases ("*name")
// are. A policy spells every value out: an alias makes the reader resolve references, and
// lets a small file stand for a huge tree.
class EventScan : public YAML::EventHandler {
 public:
  const std::vector<YAML::Mark>& documents() const { return documents_; }
  const std::vector<YAML::Mark>& aliases() const { return aliases_; }

  void OnDocumentStart(const YAML::Mark& mark) override { documents_.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { aliases_.push_back(mark); }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

 private:
  std::vector<YAML::Mark> documents_;
  std::vector<YAML::Mark> aliases_;
};

void AppendBigEndian(uint64_t value, int bytes, std::string* out) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

}  // namespace

class PolicyLoader {
 public:
  PolicyLoader(const std::string& path, const FileReader& reader)
      : path_(path), dir_(DirectoryOf(path)), reader_(reader) {}

  bool Load(std::shared_ptr<const Policy>* policy, std::vector<PolicyError>* errors);

 private:
  // A key of a map and its value.
  struct Field {
    std::string name;
    YAML::Node key;
    YAML::Node value;
    // Where to report a problem with the value: yaml-cpp places an empty value at the next
    // token, so empty values are reported at their key.
    YAML::Mark mark() const { return value.IsNull() ? key.Mark() : value.Mark(); }
  };
  using Fields = std::map<std::string, Field>;

  // A string in a list, with its position.
  struct Item {
    std::string text;
    YAML::Mark mark;
  };

  // One line of an include file holding an address.
  struct IncludeLine {
    std::string text;
    int line;
    int column;
    ParsedMember member;
  };

  // Who first listed a member pattern.
  struct RuleOwner {
    std::string department;
    std::string where;
  };

  void Error(const YAML::Mark& mark, const std::string& message);
  void FileError(const std::string& file, int line, int column, const std::string& message);
  std::string Where(const YAML::Mark& mark) const { return path_ + ":" + LineCol(mark); }
  std::string Resolve(const std::string& path) const {
    return path.empty() || path[0] == '/' ? path : dir_ + path;
  }

  // Checks that `node` is a map of the given keys (reporting unknown, duplicate and
  // non-string keys) and collects its fields. False if `node` is not a map.
  bool ReadMap(const YAML::Node& node, const YAML::Mark& mark, const std::string& what,
               std::initializer_list<const char*> keys, Fields* fields);
  // The field, or null after reporting it missing from the map at `map_mark`.
  const Field* Required(const YAML::Mark& map_mark, const Fields& fields, const char* key);
  static const Field* Optional(const Fields& fields, const char* key);

  bool GetString(const Field& field, bool non_empty, std::string* out);
  bool GetBool(const Field& field, bool* out);
  bool GetInteger(const Field& field, uint64_t* out);
  bool GetList(const Field& field, bool non_empty, std::vector<YAML::Node>* out);
  // A list of non-empty strings.
  bool GetStringList(const Field& field, bool non_empty, std::vector<Item>* out);
  // Reports `text` if `key` was seen before in `seen`; records it otherwise.
  bool CheckUnique(const std::string& key, const std::string& text, const YAML::Mark& mark,
                   std::map<std::string, YAML::Mark>* seen);

  void ParseRoot(const YAML::Node& root);
  void ParseOptions(const Field& field);
  void ParseRetention(const Field& field);
  void ParseDepartments(const Field& field);
  void ParseDepartment(const YAML::Node& node);
  void ParseMembers(const Field& field, Department* dept, bool keep);
  void ParseInclude(const YAML::Node& node, Department* dept, bool keep);
  const std::vector<IncludeLine>* ReadInclude(const std::string& path, const YAML::Mark& mark);
  void AddRule(const ParsedMember& member, const std::string& text, const std::string& where,
               const std::string& file, int line, int column, Department* dept, bool keep);
  // Reads a list of key files into *keys (resolved paths).
  void ParseKeys(const Field& field, std::vector<std::string>* keys);
  // Every message must be sealed: each department needs a key unless there is an escrow key.
  void CheckEveryDepartmentHasAKey(bool escrow_given);
  void ParseHolds(const Field& field);
  void ParseHold(const YAML::Node& node);
  void ParseScope(const Field& field, HoldScope* scope);
  void ParseAccess(const Field& field);
  void ParseRole(const YAML::Node& node);
  void ParseSupervision(const Field& field);
  void ParseLexicon(const YAML::Node& node, std::map<std::string, YAML::Mark>* names);
  void ParseSupervisedDepartment(const YAML::Node& node,
                                 std::map<std::string, YAML::Mark>* departments);
  void ParseCapture(const Field& field);
  // Checks a list of department names ("*" allowed when `star`).
  void CheckDepartmentNames(const std::vector<Item>& items, bool star);

  const std::string path_;
  const std::string dir_;
  const FileReader& reader_;
  std::vector<PolicyError> errors_;
  Policy policy_;

  bool have_retention_ = false;    // the retention map could be read
  bool have_departments_ = false;  // the departments list could be read
  std::map<std::string, YAML::Mark> department_names_;
  std::vector<std::pair<std::string, YAML::Mark>> keyless_departments_;  // no `keys` given
  std::map<std::string, YAML::Mark> hold_cases_;
  std::map<std::string, YAML::Mark> role_names_;
  std::map<std::pair<MatchKind, std::string>, RuleOwner> rule_owners_;
  std::map<std::string, std::vector<IncludeLine>> includes_;  // readable include files
  std::map<std::pair<std::string, std::string>, YAML::Mark> include_refs_;  // (dept, file)
  std::map<std::string, std::string> key_problems_;  // key file -> "" or what is wrong
};

void PolicyLoader::Error(const YAML::Mark& mark, const std::string& message) {
  FileError(path_, mark.line + 1, mark.column + 1, message);
}

void PolicyLoader::FileError(const std::string& file, int line, int column,
                             const std::string& message) {
  PolicyError error;
  error.file = file;
  error.line = line > 0 ? line : 0;
  error.column = line > 0 && column > 0 ? column : 0;
  error.message = message;
  errors_.push_back(std::move(error));
}

bool PolicyLoader::ReadMap(const YAML::Node& node, const YAML::Mark& mark, const std::string& what,
                           std::initializer_list<const char*> keys, Fields* fields) {
  if (!node.IsMap()) {
    Error(mark, what + " must be a map, not " + Describe(node));
    return false;
  }
  std::vector<std::string> names(keys.begin(), keys.end());
  for (auto it = node.begin(); it != node.end(); ++it) {
    // yaml-cpp's iterators hand out temporaries: copy the nodes (they are handles).
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    if (!key.IsScalar()) {
      Error(key.Mark(), "a key must be a string, not " + Describe(key));
      continue;
    }
    const std::string& name = key.Scalar();
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      Error(key.Mark(),
            "unknown key " + Quoted(name) + " (expected one of: " + Join(names, ", ") + ")");
      continue;
    }
    auto inserted = fields->emplace(name, Field{name, key, value});
    if (!inserted.second) {
      Error(key.Mark(), "duplicate key " + Quoted(name) + " (first at " +
                            LineCol(inserted.first->second.key.Mark()) + ")");
    }
  }
  return true;
}

const PolicyLoader::Field* PolicyLoader::Required(const YAML::Mark& map_mark, const Fields& fields,
                                                  const char* key) {
  const Field* field = Optional(fields, key);
  if (field == nullptr) Error(map_mark, std::string("missing required key '") + key + "'");
  return field;
}

const PolicyLoader::Field* PolicyLoader::Optional(const Fields& fields, const char* key) {
  auto it = fields.find(key);
  return it == fields.end() ? nullptr : &it->second;
}

bool PolicyLoader::GetString(const Field& field, bool non_empty, std::string* out) {
  if (!field.value.IsScalar()) {
    Error(field.mark(), "'" + field.name + "' must be a string, not " + Describe(field.value));
    return false;
  }
  if (non_empty && field.value.Scalar().empty()) {
    Error(field.mark(), "'" + field.name + "' must not be empty");
    return false;
  }
  *out = field.value.Scalar();
  return true;
}

bool PolicyLoader::GetBool(const Field& field, bool* out) {
  const YAML::Node& v = field.value;
  if (v.IsScalar() && (v.Tag() == "?" || v.Tag() == kBoolTag)) {
    const std::string& s = v.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") {
      *out = true;
      return true;
    }
    if (s == "false" || s == "False" || s == "FALSE") {
      *out = false;
      return true;
    }
  }
  Error(field.mark(), "'" + field.name + "' must be true or false, not " + Describe(v));
  return false;
}

bool PolicyLoader::GetInteger(const Field& field, uint64_t* out) {
  const YAML::Node& v = field.value;
  if (v.IsScalar() && (v.Tag() == "?" || v.Tag() == kIntTag) && ParseUint(v.Scalar(), out)) {
    return true;
  }
  Error(field.mark(), "'" + field.name + "' must be an integer, not " + Describe(v));
  return false;
}

bool PolicyLoader::GetList(const Field& field, bool non_empty, std::vector<YAML::Node>* out) {
  if (!field.value.IsSequence()) {
    Error(field.mark(), "'" + field.name + "' must be a list, not " + Describe(field.value));
    return false;
  }
  if (non_empty && field.value.size() == 0) {
    Error(field.mark(), "'" + field.name + "' must not be empty");
    return false;
  }
  for (auto it = field.value.begin(); it != field.value.end(); ++it) out->push_back(*it);
  return true;
}

bool PolicyLoader::GetStringList(const Field& field, bool non_empty, std::vector<Item>* out) {
  std::vector<YAML::Node> nodes;
  if (!GetList(field, non_empty, &nodes)) return false;
  bool ok = true;
  for (const YAML::Node& node : nodes) {
    if (!node.IsScalar()) {
      Error(node.Mark(),
            "each entry of '" + field.name + "' must be a string, not " + Describe(node));
      ok = false;
    } else if (node.Scalar().empty()) {
      Error(node.Mark(), "empty entry in '" + field.name + "'");
      ok = false;
    } else {
      out->push_back(Item{node.Scalar(), node.Mark()});
    }
  }
  return ok;
}

bool PolicyLoader::CheckUnique(const std::string& key, const std::string& text,
                               const YAML::Mark& mark, std::map<std::string, YAML::Mark>* seen) {
  auto inserted = seen->emplace(key, mark);
  if (inserted.second) return true;
  Error(mark, Quoted(text) + " is listed twice (first at " + LineCol(inserted.first->second) + ")");
  return false;
}

bool PolicyLoader::Load(std::shared_ptr<const Policy>* policy, std::vector<PolicyError>* errors) {
  std::string bytes, error;
  if (!reader_(path_, &bytes, &error)) {
    errors->push_back(PolicyError{path_, 0, 0, "cannot read policy: " + error});
    return false;
  }
  policy_.files_.push_back(PolicyFile{path_, bytes});
  try {
    // Events first, for the first two documents only: yaml-cpp 0.7 neither consumes nor
    // rejects some stray tokens (a ',' outside a flow collection) and would hand out the
    // same empty document forever (yaml-cpp issue #1040), so YAML::LoadAll is not used.
    std::istringstream in(bytes);
    YAML::Parser parser(in);
    EventScan scan;
    for (int i = 0; i < 2 && parser.HandleNextDocument(scan); ++i) {
    }
    const std::vector<YAML::Mark>& documents = scan.documents();
    if (documents.size() == 2 && documents[1].pos == documents[0].pos) {
      size_t pos = static_cast<size_t>(documents[0].pos);
      Error(documents[0], "YAML syntax error: unexpected " +
                              Quoted(pos < bytes.size() ? bytes.substr(pos, 1) : ""));
    } else if (documents.empty()) {
      FileError(path_, 1, 1, "the policy is empty (expected a map starting with 'version: 1')");
    } else {
      for (const YAML::Mark& mark : scan.aliases()) {
        Error(mark, "YAML aliases are not allowed in a policy (write the value out)");
      }
      // With aliases, checked no further: they would multiply the work and the reports.
      if (scan.aliases().empty()) ParseRoot(YAML::Load(bytes));
      if (documents.size() > 1) {
        Error(documents[1], "a policy is one YAML document; another one starts here");
      }
    }
  } catch (const YAML::Exception& e) {
    Error(e.mark, "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    FileError(path_, 0, 0, std::string("internal error: ") + e.what());
  }

  if (!errors_.empty()) {
    // Grouped by file (the policy, then the include files as first referenced), in order.
    std::map<std::string, size_t> rank;
    for (size_t i = 0; i < policy_.files_.size(); ++i) rank.emplace(policy_.files_[i].path, i);
    auto rank_of = [&](const std::string& file) {
      auto it = rank.find(file);
      return it == rank.end() ? policy_.files_.size() : it->second;
    };
    std::stable_sort(errors_.begin(), errors_.end(),
                     [&](const PolicyError& a, const PolicyError& b) {
                       size_t ra = rank_of(a.file), rb = rank_of(b.file);
                       if (ra != rb) return ra < rb;
                       if (a.line != b.line) return a.line < b.line;
                       return a.column < b.column;
                     });
    errors->insert(errors->end(), errors_.begin(), errors_.end());
    return false;
  }

  Sha256 sha;
  for (const PolicyFile& file : policy_.files_) {
    std::string header;
    AppendBigEndian(file.path.size(), 4, &header);
    sha.Update(header);
    sha.Update(file.path);
    header.clear();
    AppendBigEndian(file.bytes.size(), 8, &header);
    sha.Update(header);
    sha.Update(file.bytes);
  }
  policy_.digest_ = sha.Final();
  policy_.BuildIndex();
  *policy = std::make_shared<const Policy>(std::move(policy_));
  return true;
}

void PolicyLoader::ParseRoot(const YAML::Node& root) {
  if (!root.IsMap()) {
    Error(root.Mark(), "the policy must be a map, not " + Describe(root));
    return;
  }
  // A later version may mean anything: say so and nothing else.
  for (auto it = root.begin(); it != root.end(); ++it) {
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    uint64_t version = 0;
    if (key.IsScalar() && key.Scalar() == "version" && value.IsScalar() &&
        (value.Tag() == "?" || value.Tag() == kIntTag) && ParseUint(value.Scalar(), &version) &&
        version != 1) {
      Error(value.Mark(),
            "unsupported version " + value.Scalar() + " (this mailjournal reads version 1)");
      return;
    }
  }

  Fields fields;
  ReadMap(root, root.Mark(), "the policy",
          {"version", "options", "retention", "departments", "escrow", "holds", "access",
           "supervision", "capture"},
          &fields);
  uint64_t version = 0;
  if (const Field* f = Required(root.Mark(), fields, "version")) GetInteger(*f, &version);
  if (const Field* f = Optional(fields, "options")) ParseOptions(*f);
  if (const Field* f = Required(root.Mark(), fields, "retention")) ParseRetention(*f);
  if (const Field* f = Required(root.Mark(), fields, "departments")) ParseDepartments(*f);
  const Field* escrow = Optional(fields, "escrow");
  if (escrow != nullptr) ParseKeys(*escrow, &policy_.escrow_);
  CheckEveryDepartmentHasAKey(escrow != nullptr);
  if (const Field* f = Optional(fields, "holds")) ParseHolds(*f);
  if (const Field* f = Optional(fields, "access")) ParseAccess(*f);
  if (const Field* f = Optional(fields, "supervision")) ParseSupervision(*f);
  if (const Field* f = Optional(fields, "capture")) ParseCapture(*f);
}

void PolicyLoader::ParseOptions(const Field& field) {
  Fields fields;
  if (!ReadMap(field.value, field.mark(), "'options'",
               {"case_sensitive_local_part", "strip_subaddress", "subaddress_separator"},
               &fields)) {
    return;
  }
  PolicyOptions& options = policy_.options_;
  if (const Field* f = Optional(fields, "case_sensitive_local_part")) {
    GetBool(*f, &options.case_sensitive_local_part);
  }
  if (const Field* f = Optional(fields, "strip_subaddress")) GetBool(*f, &options.strip_subaddress);
  if (const Field* f = Optional(fields, "subaddress_separator")) {
    std::string sep;
    if (GetString(*f, false, &sep)) {
      unsigned char c = sep.size() == 1 ? static_cast<unsigned char>(sep[0]) : 0;
      if (c <= 0x20 || c >= 0x7f || c == '@') {
        Error(f->mark(),
              "'subaddress_separator' must be one character other than '@' and whitespace, not " +
                  Describe(f->value));
      } else {
        options.subaddress_separator = static_cast<char>(c);
      }
    }
  }
}

void PolicyLoader::ParseRetention(const Field& field) {
  const YAML::Node& map = field.value;
  if (!map.IsMap()) {
    Error(field.mark(), "'retention' must be a map, not " + Describe(map));
    return;
  }
  have_retention_ = true;
  if (map.size() == 0) {
    Error(field.mark(), "'retention' must name at least one class");
    return;
  }
  std::map<std::string, YAML::Mark> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    if (!key.IsScalar()) {
      Error(key.Mark(), "a key must be a string, not " + Describe(key));
      continue;
    }
    const std::string& name = key.Scalar();
    auto inserted = seen.emplace(name, key.Mark());
    if (!inserted.second) {
      Error(key.Mark(), "duplicate retention class " + Quoted(name) + " (first at " +
                            LineCol(inserted.first->second) + ")");
      continue;
    }
    if (!IsValidPolicyName(name)) {
      Error(key.Mark(), "invalid retention class name " + Quoted(name) + " " + kNameHint);
      continue;
    }
    RetentionClass cls;
    cls.name = name;
    YAML::Mark mark = value.IsNull() ? key.Mark() : value.Mark();
    if (!value.IsScalar()) {
      Error(mark, "the period of " + Quoted(name) + " must be a string such as 7y or 180d, not " +
                      Describe(value));
    } else {
      const std::string& text = value.Scalar();
      uint64_t n = 0;
      char unit = text.empty() ? 0 : text.back();
      if ((unit != 'y' && unit != 'd') || !ParseUint(text.substr(0, text.size() - 1), &n) ||
          n == 0) {
        Error(mark, "invalid retention period " + Quoted(text) +
                        " (expected a positive number of years or days, e.g. 7y or 180d)");
      } else if ((unit == 'y' && n > kMaxYears) || (unit == 'd' && n > kMaxDays)) {
        Error(mark, "retention period " + Quoted(text) + " is too long (at most " +
                        std::to_string(kMaxYears) + "y or " + std::to_string(kMaxDays) + "d)");
      } else {
        (unit == 'y' ? cls.period.years : cls.period.days) = static_cast<uint32_t>(n);
        cls.period.text = text;
      }
    }
    // Registered even when its period is wrong, so that departments naming it do not
    // report it unknown as well.
    policy_.retention_.push_back(std::move(cls));
  }
}

void PolicyLoader::ParseDepartments(const Field& field) {
  std::vector<YAML::Node> items;
  if (!GetList(field, false, &items)) return;
  have_departments_ = true;
  for (const YAML::Node& item : items) ParseDepartment(item);
  if (department_names_.count("default") == 0) {
    Error(field.mark(),
          "missing the required department 'default' (it gets every address no rule matches)");
  }
}

void PolicyLoader::ParseDepartment(const YAML::Node& node) {
  Fields fields;
  if (!ReadMap(node, node.Mark(), "a department", {"name", "members", "retention", "keys", "index"},
               &fields)) {
    return;
  }
  Department dept;
  bool keep = false;  // a valid, new name: the department is part of the policy
  if (const Field* f = Required(node.Mark(), fields, "name")) {
    std::string name;
    if (GetString(*f, false, &name)) {
      auto previous = department_names_.find(name);
      if (!IsValidPolicyName(name)) {
        Error(f->mark(), "invalid department name " + Quoted(name) + " " + kNameHint);
      } else if (previous != department_names_.end()) {
        Error(f->mark(), "duplicate department " + Quoted(name) + " (first at " +
                             LineCol(previous->second) + ")");
      } else {
        department_names_.emplace(name, f->mark());
        dept.name = name;
        keep = true;
      }
    }
  }
  if (const Field* f = Optional(fields, "members")) {
    if (keep && dept.name == "default") {
      Error(f->key.Mark(),
            "the default department takes no members (it gets every address no rule matches)");
    } else {
      ParseMembers(*f, &dept, keep);
    }
  }
  if (const Field* f = Required(node.Mark(), fields, "retention")) {
    std::string name;
    if (GetString(*f, true, &name)) {
      if (have_retention_ && policy_.FindRetention(name) == nullptr) {
        Error(f->mark(), "unknown retention class " + Quoted(name));
      }
      dept.retention = name;
    }
  }
  if (const Field* f = Optional(fields, "keys")) {
    ParseKeys(*f, &dept.keys);
  } else if (keep) {
    keyless_departments_.emplace_back(dept.name, node.Mark());
  }
  if (const Field* f = Optional(fields, "index")) GetBool(*f, &dept.index);
  if (keep) policy_.departments_.push_back(std::move(dept));
}

void PolicyLoader::ParseMembers(const Field& field, Department* dept, bool keep) {
  std::vector<YAML::Node> items;
  if (!GetList(field, false, &items)) return;
  for (const YAML::Node& item : items) {
    if (item.IsMap()) {
      ParseInclude(item, dept, keep);
      continue;
    }
    if (!item.IsScalar()) {
      Error(item.Mark(), "a member must be a string or {include: FILE}, not " + Describe(item));
      continue;
    }
    const std::string& text = item.Scalar();
    ParsedMember member;
    std::string reason;
    if (!policy_internal::ParseMember(text, policy_.options_, false, &member, &reason)) {
      Error(item.Mark(), "invalid member " + Quoted(text) + ": " + reason);
      continue;
    }
    const YAML::Mark mark = item.Mark();
    AddRule(member, text, Where(mark), path_, mark.line + 1, mark.column + 1, dept, keep);
  }
}

void PolicyLoader::ParseInclude(const YAML::Node& node, Department* dept, bool keep) {
  Fields fields;
  if (!ReadMap(node, node.Mark(), "a member", {"include"}, &fields)) return;
  const Field* f = Required(node.Mark(), fields, "include");
  std::string path;
  if (f == nullptr || !GetString(*f, true, &path)) return;
  const std::string resolved = Resolve(path);
  const std::vector<IncludeLine>* lines = ReadInclude(resolved, f->mark());
  if (lines == nullptr || !keep) return;
  auto first = include_refs_.emplace(std::make_pair(dept->name, resolved), f->mark());
  if (!first.second) {
    Error(f->mark(), Quoted(resolved) + " is included twice in " + dept->name + " (first at " +
                         LineCol(first.first->second) + ")");
    return;
  }
  for (const IncludeLine& line : *lines) {
    std::string where =
        resolved + ":" + std::to_string(line.line) + ":" + std::to_string(line.column);
    AddRule(line.member, line.text, where, resolved, line.line, line.column, dept, keep);
  }
}

const std::vector<PolicyLoader::IncludeLine>* PolicyLoader::ReadInclude(const std::string& path,
                                                                        const YAML::Mark& mark) {
  auto cached = includes_.find(path);
  if (cached != includes_.end()) return &cached->second;
  std::string bytes, error;
  if (!reader_(path, &bytes, &error)) {
    Error(mark, "cannot read include file " + Quoted(path) + ": " + error);
    return nullptr;
  }
  policy_.files_.push_back(PolicyFile{path, bytes});
  std::vector<IncludeLine>& lines = includes_[path];
  // One address per line; blank lines and lines starting with '#' are skipped. Bad lines
  // are reported here, once, however often the file is included.
  size_t start = bytes.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;  // a UTF-8 byte order mark
  for (int number = 1; start <= bytes.size(); ++number) {
    size_t end = bytes.find('\n', start);
    if (end == std::string::npos) end = bytes.size();
    size_t first = start, last = end;
    while (first < last && (bytes[first] == ' ' || bytes[first] == '\t')) ++first;
    while (last > first &&
           (bytes[last - 1] == ' ' || bytes[last - 1] == '\t' || bytes[last - 1] == '\r')) {
      --last;
    }
    if (first < last && bytes[first] != '#') {
      IncludeLine line;
      line.text = bytes.substr(first, last - first);
      line.line = number;
      line.column = static_cast<int>(first - start) + 1;
      std::string reason;
      if (policy_internal::ParseMember(line.text, policy_.options_, true, &line.member, &reason)) {
        lines.push_back(std::move(line));
      } else {
        FileError(path, line.line, line.column,
                  "invalid address " + Quoted(line.text) + ": " + reason);
      }
    }
    start = end + 1;
  }
  return &lines;
}

void PolicyLoader::AddRule(const ParsedMember& member, const std::string& text,
                           const std::string& where, const std::string& file, int line, int column,
                           Department* dept, bool keep) {
  if (!keep) return;  // the department is not part of the policy: its name is reported
  auto inserted = rule_owners_.emplace(std::make_pair(member.kind, member.pattern),
                                       RuleOwner{dept->name, where});
  if (!inserted.second) {
    const RuleOwner& owner = inserted.first->second;
    if (owner.department == dept->name) {
      FileError(
          file, line, column,
          member.pattern + " is listed twice in " + dept->name + " (first at " + owner.where + ")");
    } else {
      FileError(file, line, column,
                member.pattern + " is a member of both " + owner.department + " and " + dept->name +
                    " (first at " + owner.where + ")");
    }
    return;
  }
  MemberRule rule;
  rule.kind = member.kind;
  rule.pattern = member.pattern;
  rule.where = where;
  rule.text = text;
  dept->members.push_back(std::move(rule));
}

void PolicyLoader::CheckEveryDepartmentHasAKey(bool escrow_given) {
  if (escrow_given) return;
  for (const auto& [name, mark] : keyless_departments_) {
    Error(mark, "department " + Quoted(name) +
                    " has no keys and the policy names no escrow key: its mail could not be "
                    "sealed (give it 'keys' or add 'escrow')");
  }
}

void PolicyLoader::ParseKeys(const Field& field, std::vector<std::string>* keys) {
  std::vector<Item> items;
  GetStringList(field, true, &items);
  std::map<std::string, YAML::Mark> seen;
  for (const Item& item : items) {
    std::string path = Resolve(item.text);
    if (!CheckUnique(path, item.text, item.mark, &seen)) continue;
    auto checked = key_problems_.find(path);
    if (checked == key_problems_.end()) {
      std::string bytes, error, problem;
      std::shared_ptr<const RecipientKey> key;
      if (!reader_(path, &bytes, &error)) {
        problem = "cannot read key file " + Quoted(path) + ": " + error;
      } else if (!CheckPublicKeyFile(bytes, &key, &error)) {
        problem = "key file " + Quoted(path) + " " + error;
      } else {
        policy_.recipient_keys_[path] = key;
        // Public keys are part of the policy: journaled with it and covered by its digest,
        // so whose keys a message was meant for stays provable after a key rotation.
        policy_.files_.push_back(PolicyFile{path, bytes});
      }
      checked = key_problems_.emplace(path, problem).first;
    }
    if (checked->second.empty()) {
      keys->push_back(path);
    } else {
      Error(item.mark, checked->second);
    }
  }
}

void PolicyLoader::CheckDepartmentNames(const std::vector<Item>& items, bool star) {
  std::map<std::string, YAML::Mark> seen;
  for (const Item& item : items) {
    if (!CheckUnique(item.text, item.text, item.mark, &seen)) continue;
    if (star && item.text == "*") {
      if (items.size() > 1) {
        Error(item.mark, "'*' (all departments) must be the only entry of 'departments'");
      }
    } else if (have_departments_ && department_names_.count(item.text) == 0) {
      Error(item.mark, "unknown department " + Quoted(item.text));
    }
  }
}

void PolicyLoader::ParseCapture(const Field& field) {
  CaptureScope& capture = policy_.capture_;
  const YAML::Node& value = field.value;
  if (value.IsScalar() && value.Scalar() == "all") {
    capture.all = true;
    return;
  }
  if (!value.IsSequence()) {
    Error(field.mark(),
          "'capture' must be all or a list of departments and addresses, not " + Describe(value));
    return;
  }
  std::vector<Item> items;
  GetStringList(field, true, &items);
  std::map<std::string, YAML::Mark> seen;  // "department:NAME" or "address:NORMALISED"
  for (const Item& item : items) {
    CaptureEntry entry;
    entry.text = item.text;
    entry.where = Where(item.mark);
    if (item.text.find('@') == std::string::npos) {
      entry.department = true;
      entry.value = item.text;
      if (have_departments_ && department_names_.count(item.text) == 0) {
        Error(item.mark, "unknown department " + Quoted(item.text) +
                             " in 'capture' (an address needs an '@')");
        continue;
      }
    } else {
      ParsedMember member;
      std::string reason;
      if (!policy_internal::ParseMember(item.text, policy_.options_, true, &member, &reason)) {
        if (item.text[0] == '@' || reason.find("glob") != std::string::npos) {
          reason +=
              "; to capture a domain or a pattern, make it a department's member and list "
              "the department";
        }
        Error(item.mark, "invalid address " + Quoted(item.text) + " in 'capture': " + reason);
        continue;
      }
      entry.value = member.pattern;
    }
    std::string key = (entry.department ? "department:" : "address:") + entry.value;
    if (!CheckUnique(key, item.text, item.mark, &seen)) continue;
    capture.entries.push_back(std::move(entry));
  }
  capture.all = false;
}

void PolicyLoader::ParseHolds(const Field& field) {
  std::vector<YAML::Node> items;
  if (!GetList(field, false, &items)) return;
  for (const YAML::Node& item : items) ParseHold(item);
}

void PolicyLoader::ParseHold(const YAML::Node& node) {
  Fields fields;
  if (!ReadMap(node, node.Mark(), "a hold", {"case", "reason", "placed_by", "scope"}, &fields)) {
    return;
  }
  Hold hold;
  if (const Field* f = Required(node.Mark(), fields, "case")) {
    if (GetString(*f, true, &hold.case_id)) {
      auto inserted = hold_cases_.emplace(hold.case_id, f->mark());
      if (!inserted.second) {
        Error(f->mark(), "duplicate hold case " + Quoted(hold.case_id) + " (first at " +
                             LineCol(inserted.first->second) + ")");
      }
    }
  }
  if (const Field* f = Required(node.Mark(), fields, "reason")) GetString(*f, true, &hold.reason);
  if (const Field* f = Required(node.Mark(), fields, "placed_by")) {
    GetString(*f, true, &hold.placed_by);
  }
  if (const Field* f = Required(node.Mark(), fields, "scope")) ParseScope(*f, &hold.scope);
  policy_.holds_.push_back(std::move(hold));
}

void PolicyLoader::ParseScope(const Field& field, HoldScope* scope) {
  Fields fields;
  if (!ReadMap(field.value, field.mark(), "'scope'",
               {"departments", "addresses", "since", "until", "seqs"}, &fields)) {
    return;
  }
  if (fields.empty()) {
    Error(field.mark(),
          "'scope' names no criterion (expected at least one of: departments, addresses, since, "
          "until, seqs)");
    return;
  }
  if (const Field* f = Optional(fields, "departments")) {
    std::vector<Item> items;
    GetStringList(*f, true, &items);
    CheckDepartmentNames(items, false);
    for (const Item& item : items) scope->departments.push_back(item.text);
  }
  if (const Field* f = Optional(fields, "addresses")) {
    std::vector<Item> items;
    GetStringList(*f, true, &items);
    std::map<std::string, YAML::Mark> seen;
    for (const Item& item : items) {
      ParsedMember member;
      std::string reason;
      if (!policy_internal::ParseMember(item.text, policy_.options_, true, &member, &reason)) {
        Error(item.mark, "invalid address " + Quoted(item.text) + ": " + reason);
      } else if (CheckUnique(member.pattern, item.text, item.mark, &seen)) {
        scope->addresses.push_back(member.pattern);
      }
    }
  }
  bool have_since = false, have_until = false;
  for (const char* key : {"since", "until"}) {
    const Field* f = Optional(fields, key);
    std::string text;
    if (f == nullptr || !GetString(*f, true, &text)) continue;
    int64_t t = 0;
    if (!ParseTime(text, &t).ok()) {
      Error(f->mark(), std::string("invalid '") + key + "' time " + Quoted(text) +
                           " (expected ISO 8601, e.g. 2026-11-27 or 2026-11-27T10:00:00Z)");
      continue;
    }
    bool since = std::string(key) == "since";
    (since ? scope->since_us : scope->until_us) = t;
    (since ? have_since : have_until) = true;
  }
  if (have_since && have_until && scope->since_us >= scope->until_us) {
    Error(Optional(fields, "until")->mark(), "'until' must be later than 'since'");
  }
  if (const Field* f = Optional(fields, "seqs")) {
    std::vector<YAML::Node> items;
    GetList(*f, true, &items);
    for (const YAML::Node& item : items) {
      if (!item.IsScalar()) {
        Error(item.Mark(),
              "each entry of 'seqs' must be a number or a range N-M, not " + Describe(item));
        continue;
      }
      const std::string& text = item.Scalar();
      size_t dash = text.find('-');
      uint64_t low = 0, high = 0;
      bool ok = dash == std::string::npos ? ParseUint(text, &low) && (high = low, true)
                                          : ParseUint(text.substr(0, dash), &low) &&
                                                ParseUint(text.substr(dash + 1), &high);
      if (!ok || low < 1 || low > high) {
        Error(item.Mark(),
              "invalid sequence range " + Quoted(text) + " (expected N or N-M with 1 <= N <= M)");
        continue;
      }
      scope->seqs.emplace_back(low, high);
    }
  }
}

void PolicyLoader::ParseAccess(const Field& field) {
  std::vector<YAML::Node> items;
  if (!GetList(field, false, &items)) return;
  for (const YAML::Node& item : items) ParseRole(item);
}

void PolicyLoader::ParseRole(const YAML::Node& node) {
  Fields fields;
  if (!ReadMap(node, node.Mark(), "a role",
               {"role", "users", "groups", "departments", "operations"}, &fields)) {
    return;
  }
  Role role;
  if (const Field* f = Required(node.Mark(), fields, "role")) {
    if (GetString(*f, false, &role.name)) {
      auto previous = role_names_.find(role.name);
      if (!IsValidPolicyName(role.name)) {
        Error(f->mark(), "invalid role name " + Quoted(role.name) + " " + kNameHint);
      } else if (previous != role_names_.end()) {
        Error(f->mark(), "duplicate role " + Quoted(role.name) + " (first at " +
                             LineCol(previous->second) + ")");
      } else {
        role_names_.emplace(role.name, f->mark());
      }
    }
  }
  for (const char* key : {"users", "groups"}) {
    const Field* f = Optional(fields, key);
    if (f == nullptr) continue;
    std::vector<Item> items;
    GetStringList(*f, false, &items);
    bool users = std::string(key) == "users";
    std::map<std::string, YAML::Mark> seen;
    for (const Item& item : items) {
      if (!IsValidAccountName(item.text)) {
        Error(item.mark,
              std::string("invalid ") + (users ? "user" : "group") + " name " + Quoted(item.text));
      } else if (CheckUnique(item.text, item.text, item.mark, &seen)) {
        (users ? role.users : role.groups).push_back(item.text);
      }
    }
  }
  const Field* users = Optional(fields, "users");
  const Field* groups = Optional(fields, "groups");
  bool no_users = users == nullptr || (users->value.IsSequence() && users->value.size() == 0);
  bool no_groups = groups == nullptr || (groups->value.IsSequence() && groups->value.size() == 0);
  if (no_users && no_groups) {
    Error(node.Mark(), "a role must name at least one user or group ('users', 'groups')");
  }
  if (const Field* f = Required(node.Mark(), fields, "departments")) {
    std::vector<Item> items;
    GetStringList(*f, true, &items);
    CheckDepartmentNames(items, true);
    for (const Item& item : items) role.departments.push_back(item.text);
  }
  if (const Field* f = Required(node.Mark(), fields, "operations")) {
    std::vector<Item> items;
    GetStringList(*f, true, &items);
    std::map<std::string, YAML::Mark> seen;
    for (const Item& item : items) {
      Operation op;
      if (!ParseOperation(item.text, &op)) {
        Error(item.mark, "unknown operation " + Quoted(item.text) +
                             " (expected one of: search, read, export, hold, purge, verify, "
                             "audit, policy, review)");
      } else if (CheckUnique(item.text, item.text, item.mark, &seen)) {
        role.operations.insert(op);
      }
    }
  }
  policy_.roles_.push_back(std::move(role));
}

void PolicyLoader::ParseSupervision(const Field& field) {
  Fields fields;
  if (!ReadMap(field.value, field.mark(), "'supervision'", {"lexicons", "departments"}, &fields)) {
    return;
  }
  std::map<std::string, YAML::Mark> lexicon_names;
  if (const Field* f = Optional(fields, "lexicons")) {
    std::vector<YAML::Node> items;
    if (GetList(*f, false, &items)) {
      Status platform = items.empty() ? Status::OK() : CheckMatcherPlatform();
      if (!platform.ok()) {
        Error(f->mark(), "lexicons cannot be used: " + platform.message());
        return;
      }
      for (const YAML::Node& item : items) ParseLexicon(item, &lexicon_names);
    }
  }
  if (const Field* f = Optional(fields, "departments")) {
    std::vector<YAML::Node> items;
    if (!GetList(*f, false, &items)) return;
    std::map<std::string, YAML::Mark> departments;
    for (const YAML::Node& item : items) ParseSupervisedDepartment(item, &departments);
  }
  bool applied = false;
  for (const Department& d : policy_.departments_) applied = applied || !d.lexicons.empty();
  if (!applied || !errors_.empty()) return;
  // All lexicons in one database: each message's text is scanned once.
  std::vector<LexiconExpressions> expressions;
  for (const Lexicon& lexicon : policy_.lexicons_) {
    expressions.push_back(LexiconExpressions{lexicon.terms, lexicon.patterns});
  }
  Status s = LexiconMatcher::Compile(expressions, &policy_.lexicon_matcher_);
  if (!s.ok()) Error(field.mark(), s.message());
}

void PolicyLoader::ParseLexicon(const YAML::Node& node, std::map<std::string, YAML::Mark>* names) {
  Fields fields;
  if (!ReadMap(node, node.Mark(), "a lexicon", {"name", "severity", "terms", "patterns"},
               &fields)) {
    return;
  }
  Lexicon lexicon;
  bool keep = false;  // a valid, new name
  if (const Field* f = Required(node.Mark(), fields, "name")) {
    if (GetString(*f, false, &lexicon.name)) {
      auto previous = names->find(lexicon.name);
      if (!IsValidPolicyName(lexicon.name)) {
        Error(f->mark(), "invalid lexicon name " + Quoted(lexicon.name) + " " + kNameHint);
      } else if (previous != names->end()) {
        Error(f->mark(), "duplicate lexicon " + Quoted(lexicon.name) + " (first at " +
                             LineCol(previous->second) + ")");
      } else {
        names->emplace(lexicon.name, f->mark());
        keep = true;
      }
    }
  }
  if (const Field* f = Required(node.Mark(), fields, "severity")) {
    std::string text;
    if (GetString(*f, true, &text) && !ParseSeverity(text, &lexicon.severity)) {
      Error(f->mark(),
            "unknown severity " + Quoted(text) + " (expected one of: low, medium, high, critical)");
    }
  }
  if (const Field* f = Optional(fields, "terms")) {
    std::vector<Item> items;
    GetStringList(*f, false, &items);
    for (const Item& item : items) {
      if (ExpressionOfTerm(item.text).expression.empty()) {
        Error(item.mark, "empty term " + Quoted(item.text) + " (only white space)");
      } else {
        lexicon.terms.push_back(item.text);
      }
    }
  }
  if (const Field* f = Optional(fields, "patterns")) {
    std::vector<Item> items;
    GetStringList(*f, false, &items);
    for (const Item& item : items) {
      Status s = CheckPattern(item.text);
      if (!s.ok()) {
        Error(item.mark, "invalid pattern " + Quoted(item.text) + ": " + s.message());
      } else {
        lexicon.patterns.push_back(item.text);
      }
    }
  }
  const Field* terms = Optional(fields, "terms");
  const Field* patterns = Optional(fields, "patterns");
  auto empty = [](const Field* f) {
    return f == nullptr || (f->value.IsSequence() && f->value.size() == 0);
  };
  if (empty(terms) && empty(patterns)) {
    Error(node.Mark(), "a lexicon must have at least one term or pattern ('terms', 'patterns')");
  }
  if (keep) policy_.lexicons_.push_back(std::move(lexicon));
}

void PolicyLoader::ParseSupervisedDepartment(const YAML::Node& node,
                                             std::map<std::string, YAML::Mark>* departments) {
  Fields fields;
  if (!ReadMap(node, node.Mark(), "a supervised department", {"name", "lexicons", "sample"},
               &fields)) {
    return;
  }
  Department* dept = nullptr;
  if (const Field* f = Required(node.Mark(), fields, "name")) {
    std::string name;
    if (GetString(*f, true, &name)) {
      auto previous = departments->find(name);
      if (previous != departments->end()) {
        Error(f->mark(), "department " + Quoted(name) +
                             " is listed twice in 'supervision' (first at " +
                             LineCol(previous->second) + ")");
      } else if (have_departments_ && department_names_.count(name) == 0) {
        Error(f->mark(), "unknown department " + Quoted(name));
      } else {
        departments->emplace(name, f->mark());
        for (Department& d : policy_.departments_) {
          if (d.name == name) dept = &d;
        }
      }
    }
  }
  std::vector<std::string> lexicons;
  bool lexicons_ok = true;
  if (const Field* f = Optional(fields, "lexicons")) {
    std::vector<Item> items;
    lexicons_ok = GetStringList(*f, false, &items);
    std::map<std::string, YAML::Mark> seen;
    for (const Item& item : items) {
      if (!CheckUnique(item.text, item.text, item.mark, &seen)) {
        lexicons_ok = false;
      } else if (policy_.FindLexicon(item.text) == nullptr) {
        Error(item.mark, "unknown lexicon " + Quoted(item.text));
        lexicons_ok = false;
      } else {
        lexicons.push_back(item.text);
      }
    }
  }
  double sample = 0;
  if (const Field* f = Optional(fields, "sample")) {
    std::string text;
    if (GetString(*f, true, &text)) {
      // A percentage: digits, optionally a point and more digits, then '%'; 0% to 100%.
      std::string number =
          text.size() > 1 && text.back() == '%' ? text.substr(0, text.size() - 1) : "";
      size_t point = number.find('.');
      std::string whole = number.substr(0, point);
      std::string fraction = point == std::string::npos ? "0" : number.substr(point + 1);
      uint64_t ignored = 0;
      if (!ParseUint(whole, &ignored) || !IsDigits(fraction) || whole.size() > 3 ||
          fraction.size() > 6 || (sample = std::stod(whole + "." + fraction)) > 100) {
        Error(f->mark(), "invalid sample " + Quoted(text) +
                             " (expected a percentage from 0% to 100%, e.g. 2% or 0.5%)");
        sample = 0;
      }
    }
  }
  if (dept == nullptr) return;
  dept->sample = sample / 100;
  if (lexicons_ok) dept->lexicons = lexicons;
}

bool LoadPolicy(const std::string& path, const FileReader& reader,
                std::shared_ptr<const Policy>* policy, std::vector<PolicyError>* errors) {
  PolicyLoader loader(path, reader);
  return loader.Load(policy, errors);
}

}  // namespace mailjournal
