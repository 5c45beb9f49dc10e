// Philox4x32-10 and the transcendental functions of the simulator, with exactly the operations of
// native/src/optics/random.ts, so that the C++ and TypeScript kernels draw the same bits (build with -ffp-contract=off).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace opu {

enum Stream : uint32_t { kMedium = 1, kDriftPhase = 2, kOutsideField = 3, kCameraNoise = 4, kPixelResponse = 5, kLaser = 6 };

inline void philox4x32(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1, uint32_t out[4]) {
#pragma GCC unroll 10
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(0xd2511f53u) * c0;
    const uint64_t p1 = static_cast<uint64_t>(0xcd9e8d57u) * c2;
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += 0x9e3779b9u;
    k1 += 0xbb67ae85u;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

// Branch-free (loops over pixels vectorize), with the values of the TypeScript version: the exponent e of b is read
// from b converted to double (exact), and dividing by 2^e is multiplying by 2^−e (exact).
inline double lnUniform(uint32_t b) {
  constexpr double kLn2 = 0.6931471805599453;
  constexpr double kSqrt2 = 1.4142135623730951;
  constexpr double kCoefficients[11] = {1.0 / 3,  1.0 / 5,  1.0 / 7,  1.0 / 9,  1.0 / 11, 1.0 / 13,
                                        1.0 / 15, 1.0 / 17, 1.0 / 19, 1.0 / 21, 1.0 / 23};
  const double value = static_cast<double>(b);
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  const int32_t exponent = static_cast<int32_t>(bits >> 52) - 1023;  // floor(log2 b) for b ≥ 1
  const uint64_t inverseBits = static_cast<uint64_t>(static_cast<uint32_t>(1023 - exponent)) << 52;
  double inversePow2;
  std::memcpy(&inversePow2, &inverseBits, sizeof inversePow2);
  double e = b != 0 ? static_cast<double>(exponent) : -1.0;
  double m = b != 0 ? (value + 0.5) * inversePow2 : 1.0;
  const bool halve = m > kSqrt2;
  m = halve ? m * 0.5 : m;
  e = halve ? e + 1 : e;
  const double s = (m - 1) / (m + 1);
  const double s2 = s * s;
  double poly = kCoefficients[10];
#pragma GCC unroll 10
  for (int i = 9; i >= 0; --i) poly = kCoefficients[i] + s2 * poly;
  return (e - 32) * kLn2 + 2 * s * (1 + s2 * poly);
}

inline double expNegative(double x) {
  constexpr double kLn2 = 0.6931471805599453;
  struct Tables {
    double inversePow2[128];
    double coefficients[14];
    Tables() {
      inversePow2[0] = 1;
      for (int k = 1; k < 128; ++k) inversePow2[k] = inversePow2[k - 1] * 0.5;
      double factorial = 1;
      for (int k = 1; k <= 14; ++k) {
        factorial *= k;
        coefficients[k - 1] = 1 / factorial;
      }
    }
  };
  static const Tables t;
  const int k = static_cast<int>(std::floor(x / kLn2 + 0.5));
  const double r = x - k * kLn2;
  double poly = t.coefficients[13];
  for (int i = 12; i >= 0; --i) poly = t.coefficients[i] + -r * poly;
  return (1 + -r * poly) * t.inversePow2[k];
}

inline double sinSeries(double x) {
  constexpr double k[8] = {-1.0 / 6,         1.0 / 120,           -1.0 / 5040,           1.0 / 362880,
                           -1.0 / 39916800,  1.0 / 6227020800.0,  -1.0 / 1307674368000.0, 1.0 / 355687428096000.0};
  const double x2 = x * x;
  double poly = k[7];
#pragma GCC unroll 7
  for (int i = 6; i >= 0; --i) poly = k[i] + x2 * poly;
  return x * (1 + x2 * poly);
}

inline double cosSeries(double x) {
  constexpr double k[9] = {-1.0 / 2,           1.0 / 24,           -1.0 / 720,
                           1.0 / 40320,        -1.0 / 3628800,     1.0 / 479001600,
                           -1.0 / 87178291200.0, 1.0 / 20922789888000.0, -1.0 / 6402373705728000.0};
  const double x2 = x * x;
  double poly = k[8];
#pragma GCC unroll 8
  for (int i = 7; i >= 0; --i) poly = k[i] + x2 * poly;
  return 1 + x2 * poly;
}

// cos and sin of a quarter turn count, branch-free: the series run on the reduced angle and the quadrant picks signs.
inline void turnCosSin(uint32_t bits, double& c, double& s) {
  constexpr double kHalfPi = 1.5707963267948966;
  const double t4 = (static_cast<double>(bits) + 0.5) * 9.313225746154785e-10;
  const double q = std::floor(t4);
  const double r = t4 - q;
  const bool low = r <= 0.5;
  const double x = low ? r * kHalfPi : (1 - r) * kHalfPi;
  const double cx = cosSeries(x);
  const double sx = sinSeries(x);
  const double cr = low ? cx : sx;
  const double sr = low ? sx : cx;
  // Quadrant q: (c, s) = (cr, sr), (−sr, cr), (−cr, −sr), (sr, −cr).
  const bool odd = q == 1 || q == 3;
  const double cm = odd ? sr : cr;
  const double sm = odd ? cr : sr;
  c = (q == 1 || q == 2) ? -cm : cm;
  s = (q >= 2) ? -sm : sm;
}

inline void complexNormal(uint32_t amplitudeBits, uint32_t phaseBits, double& re, double& im) {
  const double r = std::sqrt(-lnUniform(amplitudeBits));
  double c, s;
  turnCosSin(phaseBits, c, s);
  re = r * c;
  im = r * s;
}

inline double standardNormal(uint32_t amplitudeBits, uint32_t phaseBits) {
  double c, s;
  turnCosSin(phaseBits, c, s);
  return std::sqrt(-2 * lnUniform(amplitudeBits)) * c;
}

// The camera's float32 normals (see random.ts: the same operations, each rounded with Math.fround). Constants are
// doubles rounded to float32, as Math.fround rounds them. All integer-to-float conversions are exact (below 2^24).
inline float floatFromBits(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

inline uint32_t bitsOfFloat(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

// ln u, for u the float32 nearest (b + ½)·2^−32: its high 24 and low 8 bits are exact floats, their sum rounds once.
// ln u = e·ln2 + 2s·(1 + s²/3 + s⁴/5 + s⁶/7 + s⁸/9) with u = m·2^e, m in [√½, √2], s = (m − 1)/(m + 1): |s| ≤ 0.172, so
// the next term, s¹⁰/11 < 2e-9, is below float32's rounding.
inline float lnUniformFloat32(uint32_t b) {
  constexpr float kLn2 = static_cast<float>(0.6931471805599453);
  constexpr float kSqrt2 = static_cast<float>(1.4142135623730951);
  constexpr float kC3 = static_cast<float>(1.0 / 3), kC5 = static_cast<float>(1.0 / 5),
                  kC7 = static_cast<float>(1.0 / 7), kC9 = static_cast<float>(1.0 / 9);
  const float u = static_cast<float>(static_cast<int32_t>(b >> 8)) * 5.9604644775390625e-8f +
                  (static_cast<float>(static_cast<int32_t>(b & 255)) + 0.5f) * 2.3283064365386963e-10f;
  const uint32_t bits = bitsOfFloat(u);  // a normal float: u ≥ 2^−33
  int32_t e = static_cast<int32_t>(bits >> 23) - 127;
  float m = floatFromBits((bits & 0x7fffffu) | 0x3f800000u);
  const bool halve = m > kSqrt2;
  m = halve ? m * 0.5f : m;
  e += halve ? 1 : 0;
  const float s = (m - 1) / (m + 1);
  const float s2 = s * s;
  const float poly = kC3 + s2 * (kC5 + s2 * (kC7 + s2 * kC9));
  return static_cast<float>(e) * kLn2 + 2 * s * (1 + s2 * poly);
}

// cos and sin of 2π·t, t = (q + f)/4: the quadrant q is the top 2 bits, f = (next 22 bits + ½)·2^−22 (exact). Taylor
// series on [0, π/4], cut where the next term is below 2e-9 (sine) and 1.1e-10 (cosine).
inline void turnCosSinFloat32(uint32_t bits, float& c, float& s) {
  constexpr float kHalfPi = static_cast<float>(1.5707963267948966);
  constexpr float kS3 = static_cast<float>(-1.0 / 6), kS5 = static_cast<float>(1.0 / 120),
                  kS7 = static_cast<float>(-1.0 / 5040), kS9 = static_cast<float>(1.0 / 362880);
  constexpr float kC2 = static_cast<float>(-1.0 / 2), kC4 = static_cast<float>(1.0 / 24),
                  kC6 = static_cast<float>(-1.0 / 720), kC8 = static_cast<float>(1.0 / 40320),
                  kC10 = static_cast<float>(-1.0 / 3628800);
  const uint32_t q = bits >> 30;
  const float f = (static_cast<float>(static_cast<int32_t>((bits >> 8) & 0x3fffffu)) + 0.5f) * 2.384185791015625e-7f;
  const bool low = f <= 0.5f;
  const float x = (low ? f : 1 - f) * kHalfPi;
  const float x2 = x * x;
  const float sx = x * (1 + x2 * (kS3 + x2 * (kS5 + x2 * (kS7 + x2 * kS9))));
  const float cx = 1 + x2 * (kC2 + x2 * (kC4 + x2 * (kC6 + x2 * (kC8 + x2 * kC10))));
  const float cr = low ? cx : sx;
  const float sr = low ? sx : cx;
  // Quadrant q: (c, s) = (cr, sr), (−sr, cr), (−cr, −sr), (sr, −cr).
  const bool odd = (q & 1) != 0;
  const float cm = odd ? sr : cr;
  const float sm = odd ? cr : sr;
  c = (q == 1 || q == 2) ? -cm : cm;
  s = q >= 2 ? -sm : sm;
}

// Two independent standard normals from one Box–Muller pair, in float32: (r·cos θ, r·sin θ), r = √(−2 ln u).
inline void standardNormalPairFloat32(uint32_t amplitudeBits, uint32_t phaseBits, float& first, float& second) {
  float c, s;
  turnCosSinFloat32(phaseBits, c, s);
  const float r = std::sqrt(-2 * lnUniformFloat32(amplitudeBits));
  first = r * c;
  second = r * s;
}

inline double uniform01(uint32_t bits) { return (static_cast<double>(bits) + 0.5) * 2.3283064365386963e-10; }

}  // namespace opu
