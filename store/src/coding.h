// Integer encodings shared by the entry format and the LevelDB key layout (private to
// store/): LEB128 varints and fixed-width big-endian integers (which sort like numbers).
#ifndef MAILJOURNAL_STORE_SRC_CODING_H_
#define MAILJOURNAL_STORE_SRC_CODING_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace mailjournal {

inline void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Reads a LEB128 varint of at most 10 bytes from the front of *in; rejects non-minimal
// encodings so that encodings stay canonical.
inline bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0, i = 0; i < 10 && !in->empty(); ++i, shift += 7) {
    uint8_t byte = static_cast<uint8_t>((*in)[0]);
    in->remove_prefix(1);
    if (i == 9 && byte > 1) return false;
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      if (byte == 0 && i > 0) return false;  // non-minimal
      *v = result;
      return true;
    }
  }
  return false;
}

inline void AppendBE(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

inline uint64_t ReadBE(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace mailjournal

#endif  // MAILJOURNAL_STORE_SRC_CODING_H_
