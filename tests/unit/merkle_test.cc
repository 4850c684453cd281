// The Merkle tree (RFC 9162): known answers from the Certificate Transparency test vectors
// (RFC 6962 leaves, roots for sizes 0 to 8, their inclusion and consistency proofs) and, for
// trees of thousands of leaves, values computed by an independent Python implementation of
// the RFC's recursive definitions; then every proof of small trees verifies and every
// damaged one does not.
#include "mailjournal/merkle.h"

#include <boost/test/unit_test.hpp>

#include "mailjournal/entry.h"

namespace mailjournal {
namespace {

Sha256Digest D(const std::string& hex) {
  std::string bytes = HexDecode(hex);
  BOOST_REQUIRE(bytes.size() == 32u);
  Sha256Digest d;
  std::copy(bytes.begin(), bytes.end(), d.begin());
  return d;
}

std::vector<Sha256Digest> Ds(const std::vector<std::string>& hexes) {
  std::vector<Sha256Digest> out;
  for (const std::string& h : hexes) out.push_back(D(h));
  return out;
}

std::string Hex(const Sha256Digest& d) {
  return HexEncode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

// RFC 6962 / Certificate Transparency reference leaves and roots (sizes 0 to 8).
const std::vector<std::string> kLeaves = {"",
                                          "00",
                                          "10",
                                          "2021",
                                          "3031",
                                          "40414243",
                                          "5051525354555657",
                                          "606162636465666768696a6b6c6d6e6f"};
const std::vector<std::string> kRoots = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

struct Tree {
  std::vector<Sha256Digest> leaves;
  LeafHashSource Source() const {
    return [this](uint64_t i, Sha256Digest* h) {
      if (i >= leaves.size()) return Status::NotFound("no leaf " + std::to_string(i));
      *h = leaves[i];
      return Status::OK();
    };
  }
  Sha256Digest Root(uint64_t size) const {
    Sha256Digest r;
    BOOST_REQUIRE(SubtreeRoot(0, size, Source(), &r).ok());
    return r;
  }
};

Tree ReferenceTree() {
  Tree t;
  for (const std::string& hex : kLeaves) t.leaves.push_back(LeafHash(HexDecode(hex)));
  return t;
}

Tree CountingTree(size_t n) {  // leaf i's input is "entry i"
  Tree t;
  for (size_t i = 0; i < n; ++i) t.leaves.push_back(LeafHash("entry " + std::to_string(i)));
  return t;
}

BOOST_AUTO_TEST_SUITE(merkle)

BOOST_AUTO_TEST_CASE(roots_of_the_reference_tree_at_every_size) {
  Tree t = ReferenceTree();
  BOOST_TEST(Hex(EmptyRoot()) == kRoots[0]);
  CompactRange range;
  BOOST_TEST(Hex(range.Root()) == kRoots[0]);
  for (size_t n = 1; n <= 8; ++n) {
    BOOST_TEST_CONTEXT("size " << n) {
      BOOST_TEST(Hex(t.Root(n)) == kRoots[n]);
      range.Append(t.leaves[n - 1]);
      BOOST_TEST(range.size() == n);
      BOOST_TEST(Hex(range.Root()) == kRoots[n]);
      CompactRange decoded;
      BOOST_REQUIRE(CompactRange::Decode(range.Encode(), &decoded));
      BOOST_TEST(Hex(decoded.Root()) == kRoots[n]);
    }
  }
  BOOST_TEST(Hex(NodeHash(t.leaves[0], t.leaves[1])) == kRoots[2]);
}

BOOST_AUTO_TEST_CASE(reference_inclusion_proofs) {
  Tree t = ReferenceTree();
  struct Case {
    uint64_t index, size;
    std::vector<std::string> path;
  } cases[] = {
      {0, 1, {}},
      {0,
       8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {5,
       8,
       {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
      {1,
       5,
       {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT("leaf " << c.index << " of " << c.size) {
      std::vector<Sha256Digest> path;
      BOOST_REQUIRE(InclusionProof(c.index, c.size, t.Source(), &path).ok());
      BOOST_TEST((path == Ds(c.path)));
      BOOST_TEST(VerifyInclusion(c.index, c.size, t.leaves[c.index], path, D(kRoots[c.size])));
    }
  }
  std::vector<Sha256Digest> path;
  BOOST_TEST((InclusionProof(8, 8, t.Source(), &path).code() == Status::Code::kInvalidArgument));
}

BOOST_AUTO_TEST_CASE(reference_consistency_proofs) {
  Tree t = ReferenceTree();
  struct Case {
    uint64_t old_size, new_size;
    std::vector<std::string> proof;
  } cases[] = {
      {1, 1, {}},
      {1,
       8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {6,
       8,
       {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2,
       5,
       {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
      {2,
       8,
       {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.old_size << " -> " << c.new_size) {
      std::vector<Sha256Digest> proof;
      BOOST_REQUIRE(ConsistencyProof(c.old_size, c.new_size, t.Source(), &proof).ok());
      BOOST_TEST((proof == Ds(c.proof)));
      BOOST_TEST(VerifyConsistency(c.old_size, c.new_size, D(kRoots[c.old_size]),
                                   D(kRoots[c.new_size]), proof));
    }
  }
}

BOOST_AUTO_TEST_CASE(thousands_of_leaves_agree_with_an_independent_implementation) {
  // Computed with a Python transcription of RFC 9162's MTH, PATH and SUBPROOF over
  // leaf inputs "entry 0", "entry 1", ...
  Tree t = CountingTree(3000);
  BOOST_TEST(Hex(t.Root(1000)) ==
             "346c6b9cb89c4b76fac9dcb20cda86e3a01c0a57417c139028eacd4538fde95b");
  BOOST_TEST(Hex(t.Root(2999)) ==
             "ea4f024214a59878e34d095d1f803e87d458fe4d6d84cb707e1d83e1fc120031");
  BOOST_TEST(Hex(t.Root(3000)) ==
             "20ad21d542a28c84290c71bb28cc5df1e0706c3139629112c3512f4abb4a66ff");
  CompactRange range;
  for (const Sha256Digest& leaf : t.leaves) range.Append(leaf);
  BOOST_TEST(Hex(range.Root()) == Hex(t.Root(3000)));
  std::vector<Sha256Digest> path;
  BOOST_REQUIRE(InclusionProof(1234, 3000, t.Source(), &path).ok());
  BOOST_TEST((path == Ds({"2a1a8e908e58a5f76195149380a7d6afd6d5ccffacdfa4b5bb1083f5f7b9dd1f",
                          "4ca7a721698a06756c30e58b705dbfa010f35a927e0c9094d14a8f4a9f4306ce",
                          "f8875c82c681c78de2abd6e988679fdf75039e4fe456de6987c8e035b573fe1c",
                          "49f83776ebc698591fd4d7ce65ac0f920a26b0df9bfe5338c89ba8a34833bc75",
                          "88d4053801e19b6401aaabf9cb91fd35ddc340c28e366f44bbd50f0fdf382796",
                          "c5c93bd15771f116ea219f8ff53e32a4dae4ac8ed6f8ac30b265216d56b403b3",
                          "524f97ae223892c04977e262020ad987daac1cbf63b29ad1cb804713016a1a31",
                          "b994b665871fffbf64e7cab6797aa96a614e2a3e8fe70d80a9769b1af914f152",
                          "c4e6e6a62a7e0cfce024492d1e615bd5c68d155351eeed5eccde1d8b6d0aed70",
                          "edebc9f8a229293a81ccfe2a9de69ea8b7488d71540f4a824b976e5586a360a0",
                          "90e4420d8d1cb79f7466fbff9cbce27c50494325cbcc3e0bd25671667a6bb0fe",
                          "853585ff23d816eeb1cb5f4f70b8b8935fd0c2d07bb07b945930fa3d3917c240"})));
  BOOST_TEST(VerifyInclusion(1234, 3000, t.leaves[1234], path, t.Root(3000)));
  std::vector<Sha256Digest> proof;
  BOOST_REQUIRE(ConsistencyProof(1000, 3000, t.Source(), &proof).ok());
  BOOST_TEST((proof == Ds({"ac31fa6b08ed21d19986aa7c175ebd2a42257d52e1e0faeb34c3988715ca0aa3",
                           "ee9c8fc2bf1fa9d412e1b19f3a0c6172a4d0c6ce60dc6b223f1c888daab779f7",
                           "2f244fdd6a2f02d7d158f38640783fbb58a11f9618c5f1395fab6751249e279a",
                           "9b8ff28cf6aa3950225a31a32fbe393649c58df9e0cd0277b983cacd82086a58",
                           "0d60dedb0733956a6ba3d69ee6ff57fa4dddc35246c08eb6c79ee3f79ea68ad3",
                           "ca515fb8f58e26391eac43ac8314dc4649d97b5367cdabfd9e3445b6de484992",
                           "93da493591474959cac0a6826b2108c64bb8a22df44bfebf9e31aea7e58c5f2e",
                           "c6db949e76cfd5d61407c73a481921265ab024ea6131d02dc6b70defdfd4fada",
                           "d1becb5ce0307d27b3ce9daea3caa03eefb6c5d03e03ec4556e1b176bfcdbb1c",
                           "853585ff23d816eeb1cb5f4f70b8b8935fd0c2d07bb07b945930fa3d3917c240"})));
  BOOST_TEST(VerifyConsistency(1000, 3000, t.Root(1000), t.Root(3000), proof));
}

BOOST_AUTO_TEST_CASE(inclusion_path_sides_follow_the_leaf_up_to_the_root) {
  // PATH(5, D[8]): leaf 4 joins on the left, leaves 6-7 on the right, leaves 0-3 on the left.
  std::vector<bool> left;
  BOOST_TEST_REQUIRE(InclusionPathSides(5, 8, 3, &left));
  BOOST_TEST((left == std::vector<bool>{true, false, true}));
  // Leaf 6 of 7 is the last: PATH(6, D[7]) is {MTH(D[4:6]), MTH(D[0:4])}, both on the left.
  BOOST_TEST_REQUIRE(InclusionPathSides(6, 7, 2, &left));
  BOOST_TEST((left == std::vector<bool>{true, true}));
  BOOST_TEST_REQUIRE(InclusionPathSides(0, 1, 0, &left));
  BOOST_TEST(left.empty());
  BOOST_TEST(!InclusionPathSides(5, 8, 2, &left));  // too short
  BOOST_TEST(!InclusionPathSides(5, 8, 4, &left));  // too long
  BOOST_TEST(!InclusionPathSides(8, 8, 3, &left));  // not a leaf of the tree
  BOOST_TEST(!InclusionPathSides(0, 0, 0, &left));
}

BOOST_AUTO_TEST_CASE(every_proof_of_small_trees_verifies_and_damaged_ones_do_not) {
  Tree t = CountingTree(40);
  std::vector<Sha256Digest> roots;
  for (uint64_t n = 0; n <= 40; ++n) roots.push_back(t.Root(n));
  for (uint64_t n = 1; n <= 40; ++n) {
    for (uint64_t i = 0; i < n; ++i) {
      std::vector<Sha256Digest> path;
      BOOST_REQUIRE(InclusionProof(i, n, t.Source(), &path).ok());
      BOOST_TEST_REQUIRE(VerifyInclusion(i, n, t.leaves[i], path, roots[n]));
      BOOST_TEST_REQUIRE(!VerifyInclusion(i, n, t.leaves[(i + 1) % 40], path, roots[n]));
      if (path.empty()) continue;
      std::vector<Sha256Digest> bad = path;
      bad.back()[7] ^= 1;
      BOOST_TEST_REQUIRE(!VerifyInclusion(i, n, t.leaves[i], bad, roots[n]));
      bad = path;
      bad.pop_back();
      BOOST_TEST_REQUIRE(!VerifyInclusion(i, n, t.leaves[i], bad, roots[n]));
      bad = path;
      bad.push_back(path[0]);
      BOOST_TEST_REQUIRE(!VerifyInclusion(i, n, t.leaves[i], bad, roots[n]));
      if ((i ^ 1) < n) BOOST_TEST_REQUIRE(!VerifyInclusion(i ^ 1, n, t.leaves[i], path, roots[n]));
    }
    for (uint64_t m = 0; m <= n; ++m) {
      std::vector<Sha256Digest> proof;
      BOOST_REQUIRE(ConsistencyProof(m, n, t.Source(), &proof).ok());
      BOOST_TEST_REQUIRE(VerifyConsistency(m, n, roots[m], roots[n], proof));
      if (m == n || m == 0) continue;  // every tree extends the empty one
      BOOST_TEST_REQUIRE(!VerifyConsistency(m, n, roots[m], roots[n - 1], proof));
      if (proof.empty()) continue;
      std::vector<Sha256Digest> bad = proof;
      bad[0][3] ^= 0x80;
      BOOST_TEST_REQUIRE(!VerifyConsistency(m, n, roots[m], roots[n], bad));
      bad = proof;
      bad.pop_back();
      BOOST_TEST_REQUIRE(!VerifyConsistency(m, n, roots[m], roots[n], bad));
    }
  }
  BOOST_TEST(!VerifyConsistency(5, 4, roots[5], roots[4], {}));
  CompactRange r;
  BOOST_TEST(!CompactRange::Decode("short", &r));
  BOOST_TEST(!CompactRange::Decode(std::string(8, '\0') + std::string(32, 'x'), &r));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
