// test_reference_svd.cpp: the true-SVD reference (reference_svd/).
//   - FULL and QR agree with each other, reconstruct B A and give orthonormal
//     vectors, on several shapes including rank-deficient and r > min(d1, d2);
//   - the analysis helpers on hand-worked cases;
//   - the svd-proj step against a brute-force global truncation computed here
//     with an independent one-sided Jacobi SVD in double;
//   - bad input refused with the status and the outputs untouched.
// Metric for "agree": max |σ_full − σ_qr| / σ_1 and ||M_full − M_qr||_F / ||B A||_F,
// with M = U diag(σ) Vt (unique even where the vectors are not). Every check
// prints its measured value. Bars: 1e-10 in double, 1e-4 in float.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "support/test_util.h"
extern "C" {
#include "analysis.h"
#include "lowrank_svd.h"
#include "model.h"
#include "projection.h"
#include "trainer.h"
}

namespace {

using test::Vec;
using Mat = std::vector<double>;  // dense row-major, double

#ifdef ADA_DOUBLE
constexpr double kTol = 1e-10;
#else
constexpr double kTol = 1e-4;
#endif
const real kNaN = std::numeric_limits<real>::quiet_NaN();

// rows x cols, leading dimension ld, logical entries N(0, 1), padding `pad`
// (NaN for inputs: a kernel that reads past the column count poisons the result).
Vec strided(ada_rng &rng, int rows, int cols, int ld, real pad) {
    Vec v((size_t)rows * ld, pad);
    for (int i = 0; i < rows; i++)
        ada_rng_fill_normal(&rng, v.data() + (size_t)i * ld, (size_t)cols, 0.0, 1.0);
    return v;
}

Mat product(const real *B, int ldb, const real *A, int lda, int d1, int d2, int r) {
    Mat M((size_t)d1 * d2, 0.0);
    for (int i = 0; i < d1; i++)
        for (int j = 0; j < d2; j++) {
            double s = 0;
            for (int l = 0; l < r; l++) s += (double)B[(size_t)i * ldb + l] * A[(size_t)l * lda + j];
            M[(size_t)i * d2 + j] = s;
        }
    return M;
}

// U diag(σ) Vt from the first k triplets.
Mat reconstruct(const real *U, int ldu, const real *s, const real *Vt, int ldvt, int d1, int d2,
                int k) {
    Mat M((size_t)d1 * d2, 0.0);
    for (int i = 0; i < d1; i++)
        for (int j = 0; j < d2; j++) {
            double sum = 0;
            for (int l = 0; l < k; l++)
                sum += (double)U[(size_t)i * ldu + l] * s[l] * Vt[(size_t)l * ldvt + j];
            M[(size_t)i * d2 + j] = sum;
        }
    return M;
}

double fro(const Mat &M) {
    double s = 0;
    for (double v : M) s += v * v;
    return std::sqrt(s);
}

double fro_diff(const Mat &X, const Mat &Y) {
    double s = 0;
    for (size_t i = 0; i < X.size(); i++) s += (X[i] - Y[i]) * (X[i] - Y[i]);
    return std::sqrt(s);
}

// max |XᵀX − I| over the first k columns of a d x (>= k) matrix (row-major, ld),
// or, with rows = true, max |X Xᵀ − I| over its first k rows (k x d).
double orth_dev(const real *X, int ld, int d, int k, bool rows) {
    double dev = 0;
    for (int a = 0; a < k; a++)
        for (int b = 0; b < k; b++) {
            double s = 0;
            for (int i = 0; i < d; i++) {
                double xa = rows ? X[(size_t)a * ld + i] : X[(size_t)i * ld + a];
                double xb = rows ? X[(size_t)b * ld + i] : X[(size_t)i * ld + b];
                s += xa * xb;
            }
            dev = std::max(dev, std::fabs(s - (a == b ? 1.0 : 0.0)));
        }
    return dev;
}

// The oracle: one-sided (Hestenes) Jacobi SVD in double of an m x n matrix M.
// Rotations orthogonalise the columns of W = M V; then σ_j = ||W[:, j]|| and
// M = Σ_j W[:, j] v_jᵀ. Independent of LAPACK, slow, exact to ~1e-15.
struct JacobiSvd {
    int m, n;
    Mat W, V;                  // m x n, n x n (row-major)
    std::vector<double> s;     // descending
    std::vector<int> order;    // column of W / V holding the i-th largest

    JacobiSvd(const Mat &M, int m_, int n_) : m(m_), n(n_), W(M), V((size_t)n_ * n_, 0.0) {
        for (int i = 0; i < n; i++) V[(size_t)i * n + i] = 1;
        for (int sweep = 0; sweep < 100; sweep++) {
            bool rotated = false;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++) {
                    double a = 0, b = 0, g = 0;
                    for (int i = 0; i < m; i++) {
                        double wp = W[(size_t)i * n + p], wq = W[(size_t)i * n + q];
                        a += wp * wp; b += wq * wq; g += wp * wq;
                    }
                    if (std::fabs(g) <= 1e-17 * std::sqrt(a * b) || g == 0) continue;
                    rotated = true;
                    double zeta = (b - a) / (2 * g);
                    double t = (zeta >= 0 ? 1.0 : -1.0) / (std::fabs(zeta) + std::sqrt(1 + zeta * zeta));
                    double c = 1 / std::sqrt(1 + t * t), sn = c * t;
                    for (int i = 0; i < m; i++) {
                        double wp = W[(size_t)i * n + p], wq = W[(size_t)i * n + q];
                        W[(size_t)i * n + p] = c * wp - sn * wq;
                        W[(size_t)i * n + q] = sn * wp + c * wq;
                    }
                    for (int i = 0; i < n; i++) {
                        double vp = V[(size_t)i * n + p], vq = V[(size_t)i * n + q];
                        V[(size_t)i * n + p] = c * vp - sn * vq;
                        V[(size_t)i * n + q] = sn * vp + c * vq;
                    }
                }
            if (!rotated) break;
        }
        std::vector<double> norms(n);
        for (int j = 0; j < n; j++) {
            double s2 = 0;
            for (int i = 0; i < m; i++) s2 += W[(size_t)i * n + j] * W[(size_t)i * n + j];
            norms[j] = std::sqrt(s2);
        }
        order.resize(n);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return norms[x] > norms[y]; });
        for (int j : order) s.push_back(norms[j]);
    }

    // The best rank-k approximation Σ_{i<k} W[:, order_i] v_{order_i}ᵀ.
    Mat truncation(int k) const {
        Mat T((size_t)m * n, 0.0);
        for (int l = 0; l < k && l < n; l++) {
            int j = order[l];
            for (int a = 0; a < m; a++)
                for (int b = 0; b < n; b++)
                    T[(size_t)a * n + b] += W[(size_t)a * n + j] * V[(size_t)b * n + j];
        }
        return T;
    }
};

// The oracle's singular values of M (d1 x d2): min(d1, d2) of them.
std::vector<double> oracle_sigma(const Mat &M, int d1, int d2) {
    JacobiSvd J(M, d1, d2);
    J.s.resize(std::min(d1, d2));
    return J.s;
}

struct Shape { int d1, d2, r; };
enum Kind { RANDOM = 0, EQUAL_B_COLUMNS = 1, ZERO_A_ROW = 2, BOTH_DEFICIENT = 3 };
const char *kind_name(int k) {
    static const char *names[] = {"random", "B two equal columns", "A zero row",
                                  "B equal cols + A zero row"};
    return names[k];
}

struct SvdOut {
    Vec U, s, Vt;
    int ldu, ldvt;
};

SvdOut run_svd(ref_svd_method method, const Vec &B, int ldb, const Vec &A, int lda,
               const Shape &sh, ref_svd_workspace *ws) {
    SvdOut o;
    o.ldu = sh.r + 1;
    o.ldvt = sh.d2 + 3;
    o.U.assign((size_t)sh.d1 * o.ldu, 7);
    o.s.assign((size_t)sh.r, 7);
    o.Vt.assign((size_t)sh.r * o.ldvt, 7);
    REQUIRE(ref_lowrank_svd(o.U.data(), o.ldu, o.s.data(), o.Vt.data(), o.ldvt, B.data(), ldb,
                            A.data(), lda, sh.d1, sh.d2, sh.r, method, ws) == ADA_OK);
    return o;
}

}  // namespace

TEST_CASE("reference_svd: FULL and QR agree, reconstruct B A, orthonormal vectors") {
    const Shape shapes[] = {{20, 12, 5}, {12, 20, 5}, {30, 30, 16}, {40, 17, 16}, {17, 40, 16},
                            {33, 9, 9},  {8, 8, 8},   {6, 25, 16},  {25, 6, 16},  {1, 10, 3},
                            {10, 1, 3},  {5, 5, 1},   {64, 48, 12}};
    ref_svd_workspace *ws = nullptr;
    REQUIRE(ref_svd_workspace_create(&ws, 64, 48, 16) == ADA_OK);
    ada_rng rng;
    ada_rng_seed(&rng, 2024);
    double worst_sigma = 0, worst_prod = 0, worst_recon = 0, worst_orth = 0, worst_oracle = 0;
    for (const Shape &sh : shapes)
        for (int kind = 0; kind < 4; kind++) {
            if (sh.r < 2 && kind != RANDOM) continue;  // deficiency needs two columns
            const int ldb = sh.r + 2, lda = sh.d2 + 1;
            Vec B = strided(rng, sh.d1, sh.r, ldb, kNaN), A = strided(rng, sh.r, sh.d2, lda, kNaN);
            int rank = std::min({sh.d1, sh.d2, sh.r});
            if (kind == EQUAL_B_COLUMNS || kind == BOTH_DEFICIENT)
                for (int i = 0; i < sh.d1; i++) B[(size_t)i * ldb + 1] = B[(size_t)i * ldb + 0];
            if (kind == ZERO_A_ROW || kind == BOTH_DEFICIENT)
                for (int j = 0; j < sh.d2; j++) A[(size_t)(sh.r - 1) * lda + j] = 0;
            // rank(B A) = min(rank B, rank A, d1, d2) for generic Gaussian data
            int rb = sh.r - (kind == EQUAL_B_COLUMNS || kind == BOTH_DEFICIENT);
            int ra = sh.r - (kind == ZERO_A_ROW || kind == BOTH_DEFICIENT);
            rank = std::min({rank, std::min(rb, sh.d1), std::min(ra, sh.d2)});
            CAPTURE(sh.d1); CAPTURE(sh.d2); CAPTURE(sh.r); CAPTURE(kind_name(kind));

            const Mat BA = product(B.data(), ldb, A.data(), lda, sh.d1, sh.d2, sh.r);
            const double norm = fro(BA);
            const int k = std::min({sh.d1, sh.d2, sh.r});
            SvdOut F = run_svd(REF_SVD_FULL, B, ldb, A, lda, sh, ws);
            SvdOut Q = run_svd(REF_SVD_QR, B, ldb, A, lda, sh, ws);
            const double s1 = F.s[0];
            REQUIRE(s1 > 0);

            double sig = 0;
            for (int i = 0; i < sh.r; i++) sig = std::max(sig, std::fabs((double)F.s[i] - Q.s[i]) / s1);
            const Mat MF = reconstruct(F.U.data(), F.ldu, F.s.data(), F.Vt.data(), F.ldvt, sh.d1, sh.d2, sh.r);
            const Mat MQ = reconstruct(Q.U.data(), Q.ldu, Q.s.data(), Q.Vt.data(), Q.ldvt, sh.d1, sh.d2, sh.r);
            const double prod = fro_diff(MF, MQ) / norm;
            const double recon = std::max(fro_diff(MF, BA), fro_diff(MQ, BA)) / norm;
            const double orth = std::max({orth_dev(F.U.data(), F.ldu, sh.d1, k, false),
                                          orth_dev(Q.U.data(), Q.ldu, sh.d1, k, false),
                                          orth_dev(F.Vt.data(), F.ldvt, sh.d2, k, true),
                                          orth_dev(Q.Vt.data(), Q.ldvt, sh.d2, k, true)});
            const std::vector<double> ref = oracle_sigma(BA, sh.d1, sh.d2);
            double oracle = 0;
            for (int i = 0; i < k; i++)
                oracle = std::max({oracle, std::fabs(F.s[i] - ref[i]) / ref[0],
                                   std::fabs(Q.s[i] - ref[i]) / ref[0]});
            std::printf("reference_svd %-26s d1 %2d d2 %2d r %2d: full-vs-qr sigma %.2e, "
                        "product %.2e; |USVt - BA| %.2e; orth %.2e; vs jacobi %.2e\n",
                        kind_name(kind), sh.d1, sh.d2, sh.r, sig, prod, recon, orth, oracle);
            CHECK(sig <= kTol);
            CHECK(prod <= kTol);
            CHECK(recon <= kTol);
            CHECK(orth <= kTol);
            CHECK(oracle <= kTol);
            worst_sigma = std::max(worst_sigma, sig);
            worst_prod = std::max(worst_prod, prod);
            worst_recon = std::max(worst_recon, recon);
            worst_orth = std::max(worst_orth, orth);
            worst_oracle = std::max(worst_oracle, oracle);

            for (const SvdOut *o : {&F, &Q}) {
                for (int i = 0; i + 1 < sh.r; i++) CHECK(o->s[i] >= o->s[i + 1]);
                for (int i = 0; i < sh.r; i++) CHECK(o->s[i] >= 0);
                // the singular values beyond the rank vanish (up to rounding)
                for (int i = rank; i < k; i++) CHECK(o->s[i] <= kTol * s1);
                // padding beyond min(d1, d2): exact zeros
                for (int i = k; i < sh.r; i++) {
                    CHECK(o->s[i] == 0);
                    for (int row = 0; row < sh.d1; row++) CHECK(o->U[(size_t)row * o->ldu + i] == 0);
                    for (int col = 0; col < sh.d2; col++) CHECK(o->Vt[(size_t)i * o->ldvt + col] == 0);
                }
                // outside the logical columns nothing was written
                for (int row = 0; row < sh.d1; row++) CHECK(o->U[(size_t)row * o->ldu + sh.r] == 7);
                for (int i = 0; i < sh.r; i++)
                    for (int col = sh.d2; col < o->ldvt; col++)
                        CHECK(o->Vt[(size_t)i * o->ldvt + col] == 7);
            }
        }
    std::printf("reference_svd worst over all shapes (%s): full-vs-qr sigma %.2e, product %.2e, "
                "reconstruction %.2e, orthonormality %.2e, vs jacobi %.2e (bar %.0e)\n",
                ADA_PRECISION_NAME, worst_sigma, worst_prod, worst_recon, worst_orth,
                worst_oracle, kTol);
    ref_svd_workspace_free(ws);
}

TEST_CASE("reference_svd: values only, in place, and a smaller call in a larger workspace") {
    ref_svd_workspace *ws = nullptr;
    REQUIRE(ref_svd_workspace_create(&ws, 50, 40, 10) == ADA_OK);
    ada_rng rng;
    ada_rng_seed(&rng, 77);
    const int d1 = 13, d2 = 9, r = 6;
    Vec B = strided(rng, d1, r, r, 0), A = strided(rng, r, d2, d2, 0);
    for (ref_svd_method method : {REF_SVD_FULL, REF_SVD_QR}) {
        CAPTURE(ref_svd_method_name(method));
        Vec U((size_t)d1 * r), s(r), Vt((size_t)r * d2), s_only(r);
        REQUIRE(ref_lowrank_svd(U.data(), r, s.data(), Vt.data(), d2, B.data(), r, A.data(), d2,
                                d1, d2, r, method, ws) == ADA_OK);
        REQUIRE(ref_lowrank_svd(nullptr, 0, s_only.data(), nullptr, 0, B.data(), r, A.data(), d2,
                                d1, d2, r, method, ws) == ADA_OK);
        for (int i = 0; i < r; i++) CHECK(s_only[i] == doctest::Approx(s[i]).epsilon(kTol));
        // in place: U over B, Vt over A (same leading dimensions)
        Vec Bi = B, Ai = A, si(r);
        REQUIRE(ref_lowrank_svd(Bi.data(), r, si.data(), Ai.data(), d2, Bi.data(), r, Ai.data(),
                                d2, d1, d2, r, method, ws) == ADA_OK);
        for (size_t i = 0; i < U.size(); i++) CHECK(Bi[i] == U[i]);
        for (size_t i = 0; i < Vt.size(); i++) CHECK(Ai[i] == Vt[i]);
        for (int i = 0; i < r; i++) CHECK(si[i] == s[i]);
    }
    ref_svd_workspace_free(ws);
}

TEST_CASE("reference_svd: analysis helpers on hand-worked cases") {
    ref_svd_workspace *ws = nullptr;
    REQUIRE(ref_svd_workspace_create(&ws, 6, 7, 4) == ADA_OK);

    SUBCASE("orthogonality errors") {
        // P = first 3 columns of I_5, Q = first 3 rows of I_6: both orthonormal.
        const int d1 = 5, d2 = 6, r = 3;
        Vec P((size_t)d1 * r, 0), Q((size_t)r * d2, 0), work((size_t)r * r);
        for (int i = 0; i < r; i++) P[(size_t)i * r + i] = Q[(size_t)i * d2 + i] = 1;
        double pe = -1, qe = -1;
        REQUIRE(ref_orth_errors(&pe, &qe, P.data(), r, Q.data(), d2, d1, d2, r, work.data()) == ADA_OK);
        CHECK(pe == 0);
        CHECK(qe == 0);
        // P column 0 doubled: PᵀP − I = diag(3, 0, 0) → 3. Q row 1 = row 0:
        // QQᵀ − I has ones at (0, 1), (1, 0) → sqrt(2).
        P[0] = 2;
        Q[(size_t)1 * d2 + 1] = 0;
        Q[(size_t)1 * d2 + 0] = 1;
        REQUIRE(ref_orth_errors(&pe, &qe, P.data(), r, Q.data(), d2, d1, d2, r, work.data()) == ADA_OK);
        CHECK(pe == doctest::Approx(3.0));
        CHECK(qe == doctest::Approx(std::sqrt(2.0)));
        std::printf("reference_svd orth errors: ||PtP - I|| = %.6f (3), ||QQt - I|| = %.6f (sqrt 2)\n",
                    pe, qe);
    }

    SUBCASE("principal angles: span(e1, e2) vs span(e1, (e2 + e3)/sqrt 2) in R^4") {
        const int n = 4, p = 2, q = 2;
        const real h = (real)(1 / std::sqrt(2.0));
        Vec X = {1, 0, 0, 1, 0, 0, 0, 0};       // columns e1, e2
        Vec Y = {1, 0, 0, h, 0, h, 0, 0};       // columns e1, (e2 + e3)/√2
        Vec cosines(2, -1);
        REQUIRE(ref_principal_cosines(cosines.data(), X.data(), p, p, Y.data(), q, q, n, ws) == ADA_OK);
        CHECK(cosines[0] == doctest::Approx(1.0).epsilon(kTol));
        CHECK(cosines[1] == doctest::Approx(std::sqrt(0.5)).epsilon(kTol));
        const double deg0 = std::acos((double)cosines[0]) * 180 / M_PI;
        const double deg1 = std::acos((double)cosines[1]) * 180 / M_PI;
        std::printf("reference_svd principal angles: %.6f and %.6f degrees (0 and 45)\n", deg0, deg1);
        CHECK(deg1 == doctest::Approx(45.0).epsilon(1e-4));
        // The same subspaces from non-orthonormal bases (QR must orthonormalise),
        // and with a leading dimension larger than the column count.
        Vec X2 = {3, 1, 9, 0, 2, 9, 0, 0, 9, 0, 0, 9};  // n x 2, ld 3: columns 3e1, e1 + 2e2
        Vec Y2 = {1, 2, 1, 0, 1, 0, 0, 0};              // n x 2: columns e1 + e2 + e3, 2 e1
        REQUIRE(ref_principal_cosines(cosines.data(), X2.data(), 3, p, Y2.data(), q, q, n, ws) == ADA_OK);
        CHECK(cosines[0] == doctest::Approx(1.0).epsilon(kTol));
        CHECK(cosines[1] == doctest::Approx(std::sqrt(0.5)).epsilon(kTol));
        // p != q, one cosine: span(e1 + e2) against span(e1, e2) → 1, against
        // span(e3, e4) → 0.
        Vec x1 = {1, 1, 0, 0};
        Vec Z = {0, 0, 0, 0, 1, 0, 0, 1};
        Vec c1(1, -1);
        REQUIRE(ref_principal_cosines(c1.data(), x1.data(), 1, 1, X.data(), 2, 2, n, ws) == ADA_OK);
        CHECK(c1[0] == doctest::Approx(1.0).epsilon(kTol));
        REQUIRE(ref_principal_cosines(c1.data(), x1.data(), 1, 1, Z.data(), 2, 2, n, ws) == ADA_OK);
        CHECK(std::fabs((double)c1[0]) <= kTol);
        // dependent columns are refused, output untouched
        Vec D = {1, 2, 1, 2, 0, 0, 0, 0};   // columns (1, 1, 0, 0) and 2·(1, 1, 0, 0)
        cosines.assign(2, -1);
        CHECK(ref_principal_cosines(cosines.data(), D.data(), 2, 2, X.data(), 2, 2, n, ws) == ADA_ERR_RANGE);
        CHECK(std::string(ada_last_error()).find("dependent") != std::string::npos);
        CHECK(cosines[0] == -1);
        CHECK(cosines[1] == -1);
    }

    SUBCASE("true singular values of P diag(lambda * m) Q") {
        // Orthonormal P, Q: σ = sorted |λ ⊙ m|.
        const int d1 = 6, d2 = 7, r = 4;
        Vec P((size_t)d1 * r, 0), Q((size_t)r * d2, 0);
        for (int i = 0; i < r; i++) P[(size_t)i * r + i] = Q[(size_t)i * d2 + (r - 1 - i)] = 1;
        Vec lam = {3, -5, 2, 4};
        uint8_t keep[4] = {1, 1, 1, 0};
        Vec s(r, -1);
        REQUIRE(ref_adapter_singular_values(s.data(), nullptr, 0, nullptr, 0, P.data(), r,
                                            lam.data(), keep, Q.data(), d2, d1, d2, r, ws) == ADA_OK);
        const double expect[4] = {5, 3, 2, 0};
        for (int i = 0; i < r; i++) CHECK(s[i] == doctest::Approx(expect[i]).epsilon(kTol));
        // Random P, Q: matches FULL on the explicitly scaled B = P diag(λ ⊙ m),
        // and the vectors reconstruct the product.
        ada_rng rng;
        ada_rng_seed(&rng, 5);
        P = strided(rng, d1, r, r, 0);
        Q = strided(rng, r, d2, d2, 0);
        Vec Bs = P;
        for (int i = 0; i < d1; i++)
            for (int j = 0; j < r; j++) Bs[(size_t)i * r + j] *= keep[j] ? lam[j] : 0;
        Vec sf(r), U((size_t)d1 * r), Vt((size_t)r * d2);
        REQUIRE(ref_lowrank_svd(nullptr, 0, sf.data(), nullptr, 0, Bs.data(), r, Q.data(), d2, d1,
                                d2, r, REF_SVD_FULL, ws) == ADA_OK);
        REQUIRE(ref_adapter_singular_values(s.data(), U.data(), r, Vt.data(), d2, P.data(), r,
                                            lam.data(), keep, Q.data(), d2, d1, d2, r, ws) == ADA_OK);
        for (int i = 0; i < r; i++) CHECK(std::fabs(s[i] - sf[i]) <= kTol * sf[0]);
        CHECK(std::fabs((double)s[3]) <= kTol * sf[0]);   // the masked triplet
        const Mat M = product(Bs.data(), r, Q.data(), d2, d1, d2, r);
        CHECK(fro_diff(reconstruct(U.data(), r, s.data(), Vt.data(), d2, d1, d2, r), M) <= kTol * fro(M));
        // keep = NULL: every triplet counts
        REQUIRE(ref_adapter_singular_values(s.data(), nullptr, 0, nullptr, 0, P.data(), r,
                                            lam.data(), nullptr, Q.data(), d2, d1, d2, r, ws) == ADA_OK);
        CHECK(s[3] > 1e-3);
    }
    ref_svd_workspace_free(ws);
}

namespace {

// A LoRA-form model of three modules in separate chains (r0 = 4, s = 8/4 = 2):
// 9 x 6, 5 x 10, and 8 x 3 whose min(d1, d2) = 3 < r0 pads one σ = 0.
struct LoraSetup {
    ada_model *m = nullptr;
    ada_trainer *tr = nullptr;
    LoraSetup(uint64_t seed, ada_form form = ADA_FORM_LORA) {
        static const ada_module_spec specs[3] = {{"a", 0, 6, 9, 0, ADA_ACT_IDENTITY},
                                                 {"b", 1, 10, 5, 0, ADA_ACT_IDENTITY},
                                                 {"c", 2, 3, 8, 0, ADA_ACT_IDENTITY}};
        ada_model_config mc = ada_model_defaults();
        mc.form = form;
        mc.n_modules = 3;
        mc.modules = specs;
        mc.r0 = 4;
        mc.alpha = 8;
        mc.max_batch = 4;
        mc.seed = seed;
        REQUIRE(ada_model_create(&m, &mc) == ADA_OK);
        ada_train_config tc = ada_train_defaults();
        tc.prune = 0;
        tc.schedule.b0 = tc.schedule.bT = m->n_triplets;
        tc.schedule.total = 10;
        REQUIRE(ada_trainer_create(&tr, m, &tc) == ADA_OK);
        ada_rng rng;
        ada_rng_seed(&rng, seed + 100);
        // random nonzero B and A (LoRA's B starts at zero), random moments
        ada_rng_fill_normal(&rng, m->params, m->n_params, 0.0, 1.0);
        ada_rng_fill_normal(&rng, tr->m1, m->n_params, 0.0, 1.0);
        ada_rng_fill_normal(&rng, tr->m2, m->n_params, 1.0, 0.1);
    }
    ~LoraSetup() {
        ada_trainer_free(tr);
        ada_model_free(m);
    }
};

Mat scaled_product(const ada_model *m, int k) {
    ada_adapter_view v = ada_model_view(m, m->params, k);
    const ada_module &mod = m->modules[k];
    Mat M = product(v.P, m->config.r0, v.Q, mod.d_in, mod.d_out, mod.d_in, m->config.r0);
    for (double &x : M) x *= m->scale;
    return M;
}

}  // namespace

TEST_CASE("reference_svd: svd-proj keeps the b globally largest singular values") {
    for (ref_svd_method method : {REF_SVD_FULL, REF_SVD_QR})
        for (long budget : {0L, 1L, 5L, 8L, 11L, 12L}) {
            CAPTURE(ref_svd_method_name(method));
            CAPTURE(budget);
            LoraSetup S(31 + (uint64_t)budget);
            ada_model *m = S.m;
            const int n = m->n_modules, r0 = m->config.r0;
            // Brute force: the oracle SVD of every s·B_k A_k, all σ's sorted.
            std::vector<JacobiSvd> oracle;
            std::vector<Mat> before;
            struct Entry { double s; int k, i; };
            std::vector<Entry> all;
            for (int k = 0; k < n; k++) {
                before.push_back(scaled_product(m, k));
                oracle.emplace_back(before.back(), m->modules[k].d_out, m->modules[k].d_in);
                for (int i = 0; i < r0; i++)
                    all.push_back({i < (int)oracle.back().s.size() ? oracle.back().s[i] : 0.0, k, i});
            }
            std::stable_sort(all.begin(), all.end(), [](const Entry &a, const Entry &b) {
                return a.s > b.s || (a.s == b.s && a.k * 100 + a.i < b.k * 100 + b.i);
            });
            std::vector<int> expect_kept(n, 0);
            for (long j = 0; j < budget; j++) expect_kept[all[j].k]++;
            const double expect_threshold = budget < (long)all.size() ? all[budget].s : -INFINITY;
            double expect_dropped = 0;
            for (size_t j = budget; j < all.size(); j++) expect_dropped += all[j].s * all[j].s;

            ref_projection *p = nullptr;
            REQUIRE(ref_projection_create(&p, m) == ADA_OK);
            ref_projection_info info;
            REQUIRE(ref_svd_project(p, m, S.tr, budget, method, &info) == ADA_OK);

            CHECK(info.budget == budget);
            CHECK(info.kept == budget);
            const double s1 = all[0].s;
            if (budget < (long)all.size())
                CHECK(std::fabs(info.threshold - expect_threshold) <= kTol * s1);
            else
                CHECK(info.threshold == -INFINITY);
            CHECK(std::fabs(info.dropped_sq - expect_dropped) <= kTol * s1 * s1);

            double worst = 0;
            long total_kept = 0;
            for (int k = 0; k < n; k++) {
                const ada_module &mod = m->modules[k];
                const int d1 = mod.d_out, d2 = mod.d_in;
                ada_adapter_view v = ada_model_view(m, m->params, k);
                int kept = 0;
                for (int i = 0; i < r0; i++) kept += mod.keep[i];
                total_kept += kept;
                CHECK(kept == expect_kept[k]);
                // kept components first, then dropped ones
                for (int i = 0; i < r0; i++) CHECK(mod.keep[i] == (i < kept ? 1 : 0));
                // s·B A equals the truncation of its old value to `kept` values
                const Mat after = scaled_product(m, k);
                const Mat trunc = oracle[k].truncation(kept);
                const double err = fro_diff(after, trunc) / fro(before[k]);
                worst = std::max(worst, err);
                CHECK(err <= kTol);
                for (int i = 0; i < r0; i++) {
                    double bn = 0, an = 0;
                    for (int row = 0; row < d1; row++) bn += (double)v.P[(size_t)row * r0 + i] * v.P[(size_t)row * r0 + i];
                    for (int col = 0; col < d2; col++) an += (double)v.Q[(size_t)i * d2 + col] * v.Q[(size_t)i * d2 + col];
                    if (mod.keep[i]) {
                        // balanced: ||B[:, i]||² = ||A[i, :]||² = σ_i(B A) = σ_i / s
                        const double sig = i < (int)oracle[k].s.size() ? oracle[k].s[i] / m->scale : 0.0;
                        CHECK(std::fabs(bn - sig) <= kTol * s1);
                        CHECK(std::fabs(an - sig) <= kTol * s1);
                    } else {
                        CHECK(bn == 0);   // exactly zero
                        CHECK(an == 0);
                    }
                }
                // the moments of the re-factored module are reset
                for (size_t j = mod.offset; j < mod.offset + mod.size; j++) {
                    CHECK(S.tr->m1[j] == 0);
                    CHECK(S.tr->m2[j] == 0);
                }
            }
            CHECK(total_kept == budget);
            CHECK(ada_model_kept_rank(m, 2) == expect_kept[2]);
            std::printf("reference_svd svd-proj %-4s b = %2ld: kept per module %d %d %d, "
                        "threshold %.4f, max |sBA - trunc| / |sBA| %.2e\n",
                        ref_svd_method_name(method), budget, expect_kept[0], expect_kept[1],
                        expect_kept[2], info.threshold, worst);
            ref_projection_free(p);
        }
}

TEST_CASE("reference_svd: FULL and QR projections give the same model") {
    LoraSetup F(9), Q(9);
    ref_projection *p = nullptr;
    REQUIRE(ref_projection_create(&p, F.m) == ADA_OK);
    REQUIRE(ref_svd_project(p, F.m, F.tr, 6, REF_SVD_FULL, nullptr) == ADA_OK);
    REQUIRE(ref_svd_project(p, Q.m, Q.tr, 6, REF_SVD_QR, nullptr) == ADA_OK);
    for (int k = 0; k < F.m->n_modules; k++) {
        const Mat a = scaled_product(F.m, k), b = scaled_product(Q.m, k);
        CHECK(fro_diff(a, b) <= kTol * std::max(fro(a), 1e-30));
        for (int i = 0; i < F.m->config.r0; i++) CHECK(F.m->modules[k].keep[i] == Q.m->modules[k].keep[i]);
    }
    // A second projection at the same budget changes nothing (a fixed point).
    const Mat before = scaled_product(F.m, 0);
    REQUIRE(ref_svd_project(p, F.m, F.tr, 6, REF_SVD_QR, nullptr) == ADA_OK);
    CHECK(fro_diff(scaled_product(F.m, 0), before) <= kTol * fro(before));
    ref_projection_free(p);
}

TEST_CASE("reference_svd: bad input is refused and outputs stay untouched") {
    ref_svd_workspace *ws = nullptr;
    SUBCASE("workspace") {
        ref_svd_workspace *sentinel = reinterpret_cast<ref_svd_workspace *>(0x1);
        ws = sentinel;
        CHECK(ref_svd_workspace_create(nullptr, 4, 4, 2) == ADA_ERR_NULL);
        CHECK(ref_svd_workspace_create(&ws, 0, 4, 2) == ADA_ERR_DIM);
        CHECK(ref_svd_workspace_create(&ws, 4, -1, 2) == ADA_ERR_DIM);
        CHECK(ref_svd_workspace_create(&ws, 4, 4, 0) == ADA_ERR_DIM);
        CHECK(ref_svd_workspace_create(&ws, 100000, 100000, 2) == ADA_ERR_DIM);
        CHECK(ws == sentinel);
        ref_svd_workspace_free(nullptr);  // allowed, a no-op
        ws = nullptr;
    }
    SUBCASE("lowrank svd") {
        REQUIRE(ref_svd_workspace_create(&ws, 8, 6, 3) == ADA_OK);
        ada_rng rng;
        ada_rng_seed(&rng, 1);
        const int d1 = 8, d2 = 6, r = 3;
        Vec B = strided(rng, d1, r, r, 0), A = strided(rng, r, d2, d2, 0);
        Vec U((size_t)d1 * r, 42), s(r, 42), Vt((size_t)r * d2, 42);
        auto untouched = [&] {
            for (real x : U) CHECK(x == 42);
            for (real x : s) CHECK(x == 42);
            for (real x : Vt) CHECK(x == 42);
        };
        auto call = [&](real *u, real *sg, real *vt, const real *b, const real *a, int ldu, int ldb,
                        int lda, int dd1, int dd2, int rr, int method) {
            return ref_lowrank_svd(u, ldu, sg, vt, d2, b, ldb, a, lda, dd1, dd2, rr,
                                   (ref_svd_method)method, ws);
        };
        CHECK(call(U.data(), nullptr, Vt.data(), B.data(), A.data(), r, r, d2, d1, d2, r, 0) == ADA_ERR_NULL);
        CHECK(call(U.data(), s.data(), Vt.data(), nullptr, A.data(), r, r, d2, d1, d2, r, 0) == ADA_ERR_NULL);
        CHECK(call(U.data(), s.data(), Vt.data(), B.data(), nullptr, r, r, d2, d1, d2, r, 1) == ADA_ERR_NULL);
        CHECK(ref_lowrank_svd(U.data(), r, s.data(), Vt.data(), d2, B.data(), r, A.data(), d2, d1,
                              d2, r, REF_SVD_QR, nullptr) == ADA_ERR_NULL);
        CHECK(call(U.data(), s.data(), Vt.data(), B.data(), A.data(), r, r, d2, 0, d2, r, 0) == ADA_ERR_DIM);
        CHECK(call(U.data(), s.data(), Vt.data(), B.data(), A.data(), r, r, d2, d1, d2, -2, 1) == ADA_ERR_DIM);
        CHECK(call(U.data(), s.data(), Vt.data(), B.data(), A.data(), r, r, d2, d1 + 1, d2, r, 0) == ADA_ERR_DIM);
        CHECK(call(U.data(), s.data(), Vt.data(), B.data(), A.data(), r, r, d2, d1, d2, r + 1, 1) == ADA_ERR_DIM);
        CHECK(call(U.data(), s.data(), Vt.data(), B.data(), A.data(), r, r - 1, d2, d1, d2, r, 0) == ADA_ERR_DIM);
        CHECK(call(U.data(), s.data(), Vt.data(), B.data(), A.data(), r, r, d2 - 1, d1, d2, r, 0) == ADA_ERR_DIM);
        CHECK(call(U.data(), s.data(), Vt.data(), B.data(), A.data(), r - 1, r, d2, d1, d2, r, 1) == ADA_ERR_DIM);
        CHECK(call(U.data(), s.data(), Vt.data(), B.data(), A.data(), r, r, d2, d1, d2, r, 7) == ADA_ERR_RANGE);
        CHECK(std::string(ada_last_error()).find("method") != std::string::npos);
        B[4] = kNaN;
        CHECK(call(U.data(), s.data(), Vt.data(), B.data(), A.data(), r, r, d2, d1, d2, r, 0) == ADA_ERR_NONFINITE);
        B[4] = 0;
        A[5] = std::numeric_limits<real>::infinity();
        CHECK(call(U.data(), s.data(), Vt.data(), B.data(), A.data(), r, r, d2, d1, d2, r, 1) == ADA_ERR_NONFINITE);
        untouched();
    }
    SUBCASE("analysis") {
        REQUIRE(ref_svd_workspace_create(&ws, 5, 5, 2) == ADA_OK);
        Vec P = {1, 0, 0, 1, 0, 0, 0, 0, 0, 0}, lam = {1, 2}, Q = {1, 0, 0, 0, 0, 0, 1, 0, 0, 0};
        Vec s(2, 42), work(4), c(2, 42);
        double pe = 42, qe = 42;
        CHECK(ref_adapter_singular_values(s.data(), nullptr, 0, nullptr, 0, P.data(), 2, nullptr,
                                          nullptr, Q.data(), 5, 5, 5, 2, ws) == ADA_ERR_NULL);
        CHECK(ref_adapter_singular_values(s.data(), nullptr, 0, nullptr, 0, P.data(), 2, lam.data(),
                                          nullptr, Q.data(), 5, 6, 5, 2, ws) == ADA_ERR_DIM);
        CHECK(ref_adapter_singular_values(s.data(), nullptr, 0, nullptr, 0, P.data(), 2, lam.data(),
                                          nullptr, Q.data(), 4, 5, 5, 2, ws) == ADA_ERR_DIM);
        lam[1] = kNaN;
        CHECK(ref_adapter_singular_values(s.data(), nullptr, 0, nullptr, 0, P.data(), 2, lam.data(),
                                          nullptr, Q.data(), 5, 5, 5, 2, ws) == ADA_ERR_NONFINITE);
        CHECK(ref_orth_errors(nullptr, &qe, P.data(), 2, Q.data(), 5, 5, 5, 2, work.data()) == ADA_ERR_NULL);
        CHECK(ref_orth_errors(&pe, &qe, P.data(), 2, Q.data(), 5, 5, 5, 2, nullptr) == ADA_ERR_NULL);
        CHECK(ref_orth_errors(&pe, &qe, P.data(), 1, Q.data(), 5, 5, 5, 2, work.data()) == ADA_ERR_DIM);
        Q[3] = kNaN;  // the Q term fails after the P term succeeded: *p_err unchanged
        CHECK(ref_orth_errors(&pe, &qe, P.data(), 2, Q.data(), 5, 5, 5, 2, work.data()) == ADA_ERR_NONFINITE);
        Q[3] = 0;
        CHECK(ref_principal_cosines(c.data(), P.data(), 2, 2, nullptr, 2, 2, 5, ws) == ADA_ERR_NULL);
        CHECK(ref_principal_cosines(c.data(), P.data(), 2, 2, P.data(), 2, 2, 1, ws) == ADA_ERR_DIM);
        CHECK(ref_principal_cosines(c.data(), P.data(), 2, 3, P.data(), 2, 2, 5, ws) == ADA_ERR_DIM);
        CHECK(ref_principal_cosines(c.data(), P.data(), 1, 2, P.data(), 2, 2, 5, ws) == ADA_ERR_DIM);
        for (real x : s) CHECK(x == 42);
        for (real x : c) CHECK(x == 42);
        CHECK(pe == 42);
        CHECK(qe == 42);
    }
    SUBCASE("projection") {
        LoraSetup S(3);
        ada_model *m = S.m;
        ref_projection *p = nullptr, *sentinel = reinterpret_cast<ref_projection *>(0x1);
        REQUIRE(ref_projection_create(&p, m) == ADA_OK);
        const Vec params(m->params, m->params + m->n_params);
        const Vec m1(S.tr->m1, S.tr->m1 + m->n_params), m2(S.tr->m2, S.tr->m2 + m->n_params);
        m->keep[5] = 0;  // a non-default pattern, so "untouched" is visible
        const std::vector<uint8_t> keep(m->keep, m->keep + m->n_triplets);
        auto untouched = [&] {
            CHECK(std::equal(params.begin(), params.end(), m->params));
            CHECK(std::equal(m1.begin(), m1.end(), S.tr->m1));
            CHECK(std::equal(m2.begin(), m2.end(), S.tr->m2));
            CHECK(std::equal(keep.begin(), keep.end(), m->keep));
        };
        ref_projection_info info;
        info.kept = -7;
        CHECK(ref_svd_project(nullptr, m, S.tr, 4, REF_SVD_QR, &info) == ADA_ERR_NULL);
        CHECK(ref_svd_project(p, nullptr, S.tr, 4, REF_SVD_QR, &info) == ADA_ERR_NULL);
        CHECK(ref_svd_project(p, m, nullptr, 4, REF_SVD_QR, &info) == ADA_ERR_NULL);
        CHECK(ref_svd_project(p, m, S.tr, -1, REF_SVD_QR, &info) == ADA_ERR_RANGE);
        CHECK(ref_svd_project(p, m, S.tr, m->n_triplets + 1, REF_SVD_FULL, &info) == ADA_ERR_RANGE);
        CHECK(ref_svd_project(p, m, S.tr, 4, (ref_svd_method)2, &info) == ADA_ERR_RANGE);
        // a trainer of another model, a projection made for another model
        LoraSetup other(4);
        CHECK(ref_svd_project(p, m, other.tr, 4, REF_SVD_QR, &info) == ADA_ERR_STATE);
        // NaN in the last module: the earlier modules' SVDs succeeded, yet
        // nothing was written
        const size_t last = m->modules[2].offset + 3;
        m->params[last] = kNaN;
        CHECK(ref_svd_project(p, m, S.tr, 4, REF_SVD_QR, &info) == ADA_ERR_NONFINITE);
        CHECK(std::string(ada_last_error()).find("module 2") != std::string::npos);
        m->params[last] = params[last];
        untouched();
        CHECK(info.kept == -7);
        // the SVD form is refused, both at creation and at projection
        LoraSetup svd(5, ADA_FORM_SVD);
        ref_projection *q = sentinel;
        CHECK(ref_projection_create(&q, svd.m) == ADA_ERR_STATE);
        CHECK(std::string(ada_last_error()).find("LoRA") != std::string::npos);
        CHECK(q == sentinel);
        CHECK(ref_projection_create(nullptr, m) == ADA_ERR_NULL);
        CHECK(ref_projection_create(&q, nullptr) == ADA_ERR_NULL);
        CHECK(ref_svd_project(p, svd.m, svd.tr, 4, REF_SVD_QR, &info) == ADA_ERR_STATE);
        ref_projection_free(p);
        ref_projection_free(nullptr);
    }
    ref_svd_workspace_free(ws);
}
