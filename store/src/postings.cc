#include "postings.h"

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>

#include "coding.h"

namespace mailjournal {

namespace {

constexpr char kBlockCounterKey[] = "mindexblock";
// Deletions per batch when a key's postings are dropped.
constexpr size_t kDropBatch = 10000;

std::string TermsKey(uint64_t seq, uint64_t key_id) {
  std::string k("t");
  AppendBE(&k, seq, 8);
  AppendBE(&k, key_id, 8);
  return k;
}

// The marker of a 't' record that is not merged yet: the same key under 'u'.
std::string UnmergedKey(uint64_t seq, uint64_t key_id) {
  std::string k = TermsKey(seq, key_id);
  k[0] = 'u';
  return k;
}

std::string TermsPrefix(uint64_t seq) {
  std::string k("t");
  AppendBE(&k, seq, 8);
  return k;
}

std::string BlockPrefix(uint64_t key_id, uint64_t hash) {
  std::string k("i");
  AppendBE(&k, key_id, 8);
  AppendBE(&k, hash, 8);
  return k;
}

std::string KeyPrefix(uint64_t key_id) {
  std::string k("i");
  AppendBE(&k, key_id, 8);
  return k;
}

Status LevelDbError(const leveldb::Status& s, const std::string& what) {
  if (s.IsCorruption()) return Status::Corruption(what + ": " + s.ToString());
  return Status::IOError(what + ": " + s.ToString());
}

std::string EncodeTerms(const TermSet& set) {
  std::string v;
  v.reserve(2 + set.terms.size() * 9);
  PutVarint(&v, set.terms.size());
  for (const KeyedTerm& t : set.terms) {
    AppendBE(&v, t.hash, 8);
    v.push_back(static_cast<char>(t.fields));
  }
  return v;
}

bool DecodeTerms(std::string_view v, TermSet* set) {
  uint64_t n = 0;
  if (!GetVarint(&v, &n) || v.size() != n * 9) return false;
  set->terms.resize(n);
  for (KeyedTerm& t : set->terms) {
    t.hash = ReadBE(v.data(), 8);
    t.fields = static_cast<uint8_t>(v[8]);
    v.remove_prefix(9);
  }
  return true;
}

std::string EncodeBlock(const std::vector<Posting>& postings) {
  std::string v;
  v.reserve(2 + postings.size() * 3);
  PutVarint(&v, postings.size());
  uint64_t previous = 0;
  for (const Posting& p : postings) {
    PutVarint(&v, p.seq - previous);
    v.push_back(static_cast<char>(p.fields));
    previous = p.seq;
  }
  return v;
}

bool DecodeBlock(std::string_view v, std::vector<Posting>* out) {
  uint64_t n = 0;
  if (!GetVarint(&v, &n) || n > v.size()) return false;
  uint64_t seq = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t delta = 0;
    if (!GetVarint(&v, &delta) || v.empty()) return false;
    seq += delta;
    out->push_back(Posting{seq, static_cast<uint8_t>(v[0])});
    v.remove_prefix(1);
  }
  return v.empty();
}

}  // namespace

void NormalizePostings(std::vector<Posting>* postings) {
  auto by_seq = [](const Posting& a, const Posting& b) { return a.seq < b.seq; };
  // Blocks are read in seq order, so the postings of a term usually are already sorted:
  // checking is linear, sorting a million of them again took tens of milliseconds.
  if (!std::is_sorted(postings->begin(), postings->end(), by_seq)) {
    std::sort(postings->begin(), postings->end(), by_seq);
  }
  size_t out = 0;
  for (size_t i = 0; i < postings->size(); ++i) {
    if (out > 0 && (*postings)[out - 1].seq == (*postings)[i].seq) {
      (*postings)[out - 1].fields |= (*postings)[i].fields;
    } else {
      (*postings)[out++] = (*postings)[i];
    }
  }
  postings->resize(out);
}

void PostingStore::AddToBatch(uint64_t seq, const std::vector<TermSet>& terms,
                              leveldb::WriteBatch* batch) {
  for (const TermSet& set : terms) {
    if (set.terms.empty()) continue;
    batch->Put(TermsKey(seq, set.key_id), EncodeTerms(set));
    batch->Put(UnmergedKey(seq, set.key_id), "");
  }
}

void PostingStore::AddToTail(uint64_t seq, const TermSet& set, Tail* tail) {
  if (set.terms.empty()) return;
  for (const KeyedTerm& t : set.terms) {
    tail->postings.push_back(TailPosting{set.key_id, t.hash, seq, t.fields});
  }
  tail->records.emplace_back(seq, set.key_id);
}

void PostingStore::Added(uint64_t seq, const std::vector<TermSet>& terms) {
  std::lock_guard<std::shared_mutex> l(mu_);
  for (const TermSet& set : terms) AddToTail(seq, set, &tail_);
}

Status PostingStore::Load(leveldb::DB* db) {
  Tail tail;
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
  std::string record;
  for (it->Seek("u"); it->Valid() && it->key()[0] == 'u'; it->Next()) {
    if (it->key().size() != 17) return Status::Corruption("journal: malformed search marker");
    uint64_t seq = ReadBE(it->key().data() + 1, 8);
    TermSet set;
    set.key_id = ReadBE(it->key().data() + 9, 8);
    leveldb::Status ls = db->Get(leveldb::ReadOptions(), TermsKey(seq, set.key_id), &record);
    if (!ls.ok() || !DecodeTerms(record, &set)) {
      return ls.ok() || ls.IsNotFound()
                 ? Status::Corruption("journal: search terms of message " + std::to_string(seq) +
                                      " missing or malformed")
                 : LevelDbError(ls, "journal: search terms");
    }
    AddToTail(seq, set, &tail);
  }
  if (!it->status().ok()) return LevelDbError(it->status(), "journal: search terms");
  std::string value;
  leveldb::Status ls = db->Get(leveldb::ReadOptions(), kBlockCounterKey, &value);
  uint64_t next_block = 0;
  if (ls.ok() && value.size() == 8) {
    next_block = ReadBE(value.data(), 8);
  } else if (!ls.IsNotFound()) {
    return ls.ok() ? Status::Corruption("journal: bad search block counter")
                   : LevelDbError(ls, "journal: search block counter");
  }
  std::lock_guard<std::shared_mutex> l(mu_);
  tail_ = std::move(tail);
  merging_ = Tail();
  next_block_ = next_block;
  return Status::OK();
}

bool PostingStore::NeedsMerge(size_t threshold) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  return tail_.postings.size() >= threshold;
}

Status PostingStore::Merge(leveldb::DB* db) {
  std::lock_guard<std::mutex> ml(merge_mu_);
  uint64_t block;
  {
    std::lock_guard<std::shared_mutex> l(mu_);
    if (tail_.records.empty()) return Status::OK();
    merging_ = std::move(tail_);
    tail_ = Tail();
    block = next_block_;
  }
  // merging_ is only replaced under merge_mu_, which this thread holds; readers scan it
  // meanwhile, so it is sorted in a copy.
  std::vector<TailPosting> sorted = merging_.postings;
  std::sort(sorted.begin(), sorted.end(), [](const TailPosting& a, const TailPosting& b) {
    return std::tie(a.key_id, a.hash, a.seq) < std::tie(b.key_id, b.hash, b.seq);
  });
  leveldb::WriteBatch batch;
  std::vector<Posting> postings;
  for (size_t i = 0; i < sorted.size();) {
    size_t end = i;
    postings.clear();
    for (; end < sorted.size() && sorted[end].key_id == sorted[i].key_id &&
           sorted[end].hash == sorted[i].hash;
         ++end) {
      postings.push_back(Posting{sorted[end].seq, sorted[end].fields});
    }
    NormalizePostings(&postings);  // one posting per message
    std::string key = BlockPrefix(sorted[i].key_id, sorted[i].hash);
    AppendBE(&key, block, 8);
    batch.Put(key, EncodeBlock(postings));
    i = end;
  }
  // The 't' records stay (ReadTerms); only their markers go.
  for (const auto& [seq, key_id] : merging_.records) batch.Delete(UnmergedKey(seq, key_id));
  std::string counter;
  AppendBE(&counter, block + 1, 8);
  batch.Put(kBlockCounterKey, counter);
  leveldb::Status ls = db->Write(leveldb::WriteOptions(), &batch);
  std::lock_guard<std::shared_mutex> l(mu_);
  if (!ls.ok()) {
    // Keep them waiting: the 't' records are still there and the next merge tries again.
    tail_.postings.insert(tail_.postings.end(), merging_.postings.begin(), merging_.postings.end());
    tail_.records.insert(tail_.records.end(), merging_.records.begin(), merging_.records.end());
    merging_ = Tail();
    return LevelDbError(ls, "journal: merging search postings");
  }
  next_block_ = block + 1;
  merging_ = Tail();
  return Status::OK();
}

void PostingStore::CollectTail(const Tail& tail, uint64_t key_id, uint64_t hash,
                               std::vector<Posting>* out) {
  for (const TailPosting& p : tail.postings) {
    if (p.hash == hash && p.key_id == key_id) out->push_back(Posting{p.seq, p.fields});
  }
}

Status PostingStore::Read(leveldb::DB* db, uint64_t key_id, uint64_t hash,
                          std::vector<Posting>* out) const {
  std::vector<Posting> found;
  {
    // Memory first: what a concurrent merge moves to LevelDB is then seen at least once.
    std::shared_lock<std::shared_mutex> l(mu_);
    CollectTail(tail_, key_id, hash, &found);
    CollectTail(merging_, key_id, hash, &found);
  }
  std::string prefix = BlockPrefix(key_id, hash);
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (!DecodeBlock(std::string_view(it->value().data(), it->value().size()), &found)) {
      return Status::Corruption("journal: malformed search postings block");
    }
  }
  if (!it->status().ok()) return LevelDbError(it->status(), "journal: search postings");
  NormalizePostings(&found);
  out->insert(out->end(), found.begin(), found.end());
  return Status::OK();
}

Status PostingStore::Drop(leveldb::DB* db, uint64_t key_id) {
  std::lock_guard<std::mutex> ml(merge_mu_);  // no merge moves the key's postings meanwhile
  {
    // The key's waiting postings go from memory now; their 't' records and markers below.
    std::lock_guard<std::shared_mutex> l(mu_);
    auto& postings = tail_.postings;
    postings.erase(std::remove_if(postings.begin(), postings.end(),
                                  [key_id](const TailPosting& p) { return p.key_id == key_id; }),
                   postings.end());
    auto& records = tail_.records;
    records.erase(std::remove_if(records.begin(), records.end(),
                                 [key_id](const auto& r) { return r.second == key_id; }),
                  records.end());
  }
  std::string prefix = KeyPrefix(key_id);
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
  leveldb::WriteBatch batch;
  size_t pending = 0;
  auto flush = [&]() -> Status {
    leveldb::Status ls = db->Write(leveldb::WriteOptions(), &batch);
    batch.Clear();
    pending = 0;
    return ls.ok() ? Status::OK() : LevelDbError(ls, "journal: dropping search postings");
  };
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    batch.Delete(it->key());
    if (++pending == kDropBatch) {
      Status s = flush();
      if (!s.ok()) return s;
    }
  }
  for (it->Seek("t"); it->Valid() && it->key()[0] == 't'; it->Next()) {
    if (it->key().size() == 17 && ReadBE(it->key().data() + 9, 8) == key_id) {
      batch.Delete(it->key());
      batch.Delete(UnmergedKey(ReadBE(it->key().data() + 1, 8), key_id));
      if (++pending >= kDropBatch) {
        Status s = flush();
        if (!s.ok()) return s;
      }
    }
  }
  if (!it->status().ok()) return LevelDbError(it->status(), "journal: dropping search postings");
  return flush();
}

Status PostingStore::MarkAllUnmerged(leveldb::DB* db, leveldb::WriteBatch* batch) {
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
  for (it->Seek("t"); it->Valid() && it->key()[0] == 't'; it->Next()) {
    if (it->key().size() != 17) return Status::Corruption("journal: malformed search terms key");
    std::string marker = it->key().ToString();
    marker[0] = 'u';
    batch->Put(marker, "");
  }
  return it->status().ok() ? Status::OK() : LevelDbError(it->status(), "journal: search terms");
}

Status PostingStore::ReadTerms(leveldb::DB* db, uint64_t seq, std::vector<TermSet>* out) {
  std::string prefix = TermsPrefix(seq);
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    TermSet set;
    if (it->key().size() != 17 ||
        !DecodeTerms(std::string_view(it->value().data(), it->value().size()), &set)) {
      return Status::Corruption("journal: malformed search terms of message " +
                                std::to_string(seq));
    }
    set.key_id = ReadBE(it->key().data() + 9, 8);
    out->push_back(std::move(set));
  }
  return it->status().ok() ? Status::OK() : LevelDbError(it->status(), "journal: search terms");
}

Status PostingStore::DeleteTermsOf(leveldb::DB* db, uint64_t seq, leveldb::WriteBatch* batch) {
  std::string prefix = TermsPrefix(seq);
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() != 17) continue;
    batch->Delete(it->key());
    batch->Delete(UnmergedKey(seq, ReadBE(it->key().data() + 9, 8)));
  }
  return it->status().ok() ? Status::OK() : LevelDbError(it->status(), "journal: search terms");
}

void PostingStore::Forget(uint64_t seq) {
  std::lock_guard<std::shared_mutex> l(mu_);
  auto& postings = tail_.postings;
  postings.erase(std::remove_if(postings.begin(), postings.end(),
                                [seq](const TailPosting& p) { return p.seq == seq; }),
                 postings.end());
  auto& records = tail_.records;
  records.erase(std::remove_if(records.begin(), records.end(),
                               [seq](const auto& r) { return r.first == seq; }),
                records.end());
}

}  // namespace mailjournal
