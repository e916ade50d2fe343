/*
 * Pennant (apps.md §3): Lagrangian staggered-grid hydrodynamics after the PENNANT mini-app,
 * written for mapper-gym from the description of the Regent program pennant.rg and of
 * PENNANT's published algorithm.
 *
 * Reduced mesh. The original reads an unstructured mesh from a deck file; this program builds
 * the rectangular quad mesh of a Sedov deck itself: nzx × nzy square zones over
 * [0, 1.125] × [0, 1.125·nzy/nzx] (cylindrical r-z geometry: x is the radius), cut into
 * horizontal strips of whole zone rows, one piece per strip (-numpcx 1, -numpcy = -npieces).
 * apps.md §3.2 allows this: the tasks, region arguments, partitions and privileges are the
 * ones benchmarks/pennant.py describes, only the mesh is generated instead of read.
 *
 * Data (names as benchmarks/pennant.py publishes them):
 *   rz_all (zones) and rs_all (sides, 4 per zone, counter-clockwise: side k of a zone runs from
 *   its corner k to corner k+1, corners 0..3 = lower left, lower right, upper right, upper
 *   left) with the disjoint partitions rz_all_p and rs_all_p by piece;
 *   rp_all (points): all private blocks first (by piece), then the boundary rows of nzx + 1
 *   points between strips k and k+1. rp_all is split into rp_all_private and rp_all_ghost;
 *   rp_all_private_p (disjoint) holds each piece's own points, rp_all_shared_p (disjoint) the
 *   boundary row a piece owns (the lower strip owns it; the last piece owns none) and
 *   rp_all_ghost_p (aliased) the one or two boundary rows a piece's zones touch.
 *   Side→point maps are multi-region pointers (point id + private/ghost), as in the original.
 *
 * Each cycle runs the 27 index launches and 2 single tasks of apps.md §3.4 in the model's
 * order, with the model's requirement lists (each region argument split by privilege group in
 * the order RO, WO, RW, RED; an argument without fields is one NO_ACCESS requirement). Physics
 * follows PENNANT's Hydro/PolyGas/TTS/QCS kernels: half-step point advance, zone centres,
 * areas and r-z volumes, characteristic lengths, densities, the polytropic EOS at the half
 * step, pressure (PGAS) and temporary-triangular-subzoning (TTS) side forces, the Christensen
 * tensor artificial viscosity (QCS: zone-centre velocity, corner divergence, corner forces,
 * side forces, velocity difference), sums of corner mass and force into points (reductions
 * into ghost points), boundary conditions, the full-step advance, work, energy, density and
 * the Courant/volume time-step limit, MIN-reduced into a future. Simplifications: neighbour
 * sides the model gives a task no map field for are found by index arithmetic (4 sides per
 * zone, stored consecutively); the deck's constants are fixed (Sedov: gamma 5/3, q1 0,
 * q2 2, cfl 0.6, cflv 0.1); there is no sequential validation (the original skips it too).
 *
 * Timing (apps.md §3.5): host-side in the top-level task, after execution fences at
 * cycle = prune and cycle = cstop + prune; the run does cstop + 2·prune cycles.
 *
 * Flags: -nzx -nzy -cstop (the deck), -prune -npieces -numpcx -numpcy (the original's), and
 * -dump_cycle N, which prints every zone's sound speed after cycle N to stderr.
 */
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "common.h"

using namespace Legion;

namespace mapper_gym {
namespace apps {
namespace {

enum TaskIDs {
  TOPLEVEL_TASK = 300,
  READ_PARTITIONS_TASK,
  INITIALIZE_TOPOLOGY_TASK,
  INIT_POINTERS_TASK,
  DUMMY_TASK,
  INIT_MESH_ZONES_TASK,
  CALC_CENTERS_FULL_TASK,
  CALC_VOLUMES_FULL_TASK,
  INIT_SIDE_FRACS_TASK,
  INIT_HYDRO_TASK,
  INIT_RADIAL_VELOCITY_TASK,
  OUTPUT0_TASK,
  OUTPUT1_TASK,
  OUTPUT5_TASK,
  INIT_STEP_POINTS_TASK,
  INIT_STEP_ZONES_TASK,
  CALC_GLOBAL_DT_TASK,
  ADV_POS_HALF_TASK,
  CALC_CENTERS_TASK,
  CALC_VOLUMES_TASK,
  CALC_CHAR_LEN_TASK,
  CALC_RHO_HALF_TASK,
  SUM_POINT_MASS_TASK,
  CALC_STATE_AT_HALF_TASK,
  CALC_FORCE_PGAS_TTS_TASK,
  QCS_ZONE_CENTER_VELOCITY_TASK,
  QCS_CORNER_DIVERGENCE_TASK,
  QCS_QCN_FORCE_TASK,
  QCS_FORCE_TASK,
  QCS_VEL_DIFF_TASK,
  SUM_POINT_FORCE_TASK,
  APPLY_BOUNDARY_CONDITIONS_TASK,
  ADV_POS_FULL_TASK,
  CALC_WORK_TASK,
  CALC_WORK_RATE_ENERGY_RHO_FULL_TASK,
  CALC_DT_HYDRO_TASK,
  CONTINUE_SIMULATION_TASK,
};

// Zone fields (apps.md §3.3).
enum ZoneFields {
  FID_ZXP = 1, FID_ZX, FID_ZUC, FID_ZAREAP, FID_ZAREA, FID_ZVOL0, FID_ZVOLP, FID_ZVOL, FID_ZDL,
  FID_ZM, FID_ZRP, FID_ZR, FID_ZE, FID_ZETOT, FID_ZW, FID_ZWRATE, FID_ZP, FID_ZSS, FID_ZDU,
  FID_Z0TMP, FID_ZNUMP,
};
// Point fields.
enum PointFields {
  FID_PX0 = 40, FID_PXP, FID_PX, FID_PU0, FID_PU, FID_PAP, FID_PF, FID_PMASWT, FID_HAS_BCX,
  FID_HAS_BCY,
};
// Side fields.
enum SideFields {
  FID_MAPSZ = 60, FID_MAPSP1, FID_MAPSP2, FID_MAPSS3, FID_MAPSS4, FID_SAREAP, FID_SAREA,
  FID_SVOLP, FID_SVOL, FID_SMF, FID_ELEN, FID_CAREA, FID_CEVOL, FID_CDU, FID_CDIV, FID_CCOS,
  FID_SSURFP, FID_SFP, FID_SFT, FID_SFQ, FID_EXP, FID_EX, FID_CQE1, FID_CQE2,
};

constexpr ReductionOpID REDOP_SUM_VEC2 = 101;

// The Sedov deck's constants (PENNANT's test problem; apps.md §3.1).
constexpr double kGamma = 5.0 / 3.0;
constexpr double kSsmin = 0.1;
constexpr double kAlfa = 0.5;  // TTS
constexpr double kQ1 = 0.0, kQ2 = 2.0;  // QCS
constexpr double kCfl = 0.6, kCflv = 0.1;
constexpr double kDtInit = 1e-4, kDtMax = 1.0, kDtFac = 1.2, kTstop = 1.0;
constexpr double kLenX = 1.125;
constexpr double kRhoInit = 1.0, kEnergyInit = 0.0, kBlastEnergy = 0.25;
constexpr double kUInitRadial = 0.0;  // radial initial velocity (Noh decks; 0 for Sedov)
constexpr double kFuzz = 1e-99;

struct Vec2 {
  double x, y;
};
inline Vec2 operator+(Vec2 a, Vec2 b) { return {a.x + b.x, a.y + b.y}; }
inline Vec2 operator-(Vec2 a, Vec2 b) { return {a.x - b.x, a.y - b.y}; }
inline Vec2 operator-(Vec2 a) { return {-a.x, -a.y}; }
inline Vec2 operator*(double s, Vec2 a) { return {s * a.x, s * a.y}; }
inline double dot(Vec2 a, Vec2 b) { return a.x * b.x + a.y * b.y; }
inline double cross(Vec2 a, Vec2 b) { return a.x * b.y - a.y * b.x; }
inline double length(Vec2 a) { return std::sqrt(dot(a, a)); }
inline double length2(Vec2 a) { return dot(a, a); }
inline Vec2 rotate_ccw(Vec2 a) { return {-a.y, a.x}; }

/* Atomic a += b on a double (the non-exclusive form Legion's reduction interface asks for). */
inline void atomic_add(double& target, double value) {
  uint64_t* word = reinterpret_cast<uint64_t*>(&target);
  uint64_t old_bits = __atomic_load_n(word, __ATOMIC_RELAXED), new_bits;
  do {
    double old_value;
    std::memcpy(&old_value, &old_bits, sizeof(double));
    const double sum = old_value + value;
    std::memcpy(&new_bits, &sum, sizeof(double));
  } while (!__atomic_compare_exchange_n(word, &old_bits, new_bits, false, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED));
}

/* Sum of 2-vectors: the reduction the force sums into ghost points use (pf is a vec2). */
struct SumVec2 {
  typedef Vec2 LHS;
  typedef Vec2 RHS;
  static const Vec2 identity;
  static constexpr int REDOP_ID = REDOP_SUM_VEC2;
  template <bool EXCLUSIVE>
  static void apply(LHS& lhs, RHS rhs) {
    if (EXCLUSIVE) {
      lhs.x += rhs.x;
      lhs.y += rhs.y;
    } else {
      atomic_add(lhs.x, rhs.x);
      atomic_add(lhs.y, rhs.y);
    }
  }
  template <bool EXCLUSIVE>
  static void fold(RHS& rhs1, RHS rhs2) {
    apply<EXCLUSIVE>(rhs1, rhs2);
  }
};
const Vec2 SumVec2::identity = {0.0, 0.0};

/* Which of a piece's point regions holds a side's endpoint. */
enum PointRegion : int64_t { IN_PRIVATE = 0, IN_GHOST = 1, UNRESOLVED = -1 };

struct PointPtr {
  int64_t point;
  int64_t region;
};

struct Config {
  long long nzx, nzy, cstop, prune, npieces, numpcx, numpcy;
  long long dump_cycle;  // -dump_cycle: print every zone's sound speed after this cycle
  long long cycles() const { return cstop + 2 * prune; }
};

/* The time-stepping state one cycle hands to the next (the "dt" future of the model). */
struct State {
  double dt;
  double time;
  long long cycle;
};

struct OutputArgs {
  double started_at, init_time, elapsed;
  int64_t window_start, window_stop;
};

/* Piece geometry of the strip decomposition; ids as in the file comment. */
struct Mesh {
  Config c;
  std::vector<long long> zrow;     // zone-row boundaries of the strips (block split of nzy)
  std::vector<long long> prow_lo;  // first private point row of each piece
  std::vector<long long> prow_hi;  // last private point row of each piece
  std::vector<long long> before;   // private points of the pieces before each piece
  explicit Mesh(const Config& config) : c(config) {
    const long long n = c.npieces;
    for (long long k = 0; k <= n; k++) zrow.push_back(k * c.nzy / n);
    long long total = 0;
    for (long long k = 0; k < n; k++) {
      prow_lo.push_back(zrow[k] + (k > 0 ? 1 : 0));
      prow_hi.push_back(zrow[k + 1] - (k < n - 1 ? 1 : 0));
      before.push_back(total);
      total += (prow_hi[k] - prow_lo[k] + 1) * row();
    }
    before.push_back(total);
  }
  long long row() const { return c.nzx + 1; }
  long long zones() const { return c.nzx * c.nzy; }
  long long private_points() const { return before.back(); }
  long long points() const { return private_points() + (c.npieces - 1) * row(); }
  double dx() const { return kLenX / c.nzx; }
  /* Boundary index (0-based) of point row j, or -1 when j is not a boundary row. */
  long long boundary_of(long long j) const {
    auto it = std::lower_bound(zrow.begin() + 1, zrow.end() - 1, j);
    return (it != zrow.end() - 1 && *it == j) ? (it - zrow.begin()) - 1 : -1;
  }
  long long point_id(long long i, long long j) const {
    const long long b = boundary_of(j);
    if (b >= 0) return private_points() + b * row() + i;
    // the piece whose private rows contain j
    const long long k = std::upper_bound(prow_lo.begin(), prow_lo.end(), j) - prow_lo.begin() - 1;
    return before[k] + (j - prow_lo[k]) * row() + i;
  }
  /* (i, j) of a point id. */
  void point_coords(long long id, long long& i, long long& j) const {
    if (id >= private_points()) {
      const long long b = (id - private_points()) / row();
      i = (id - private_points()) % row();
      j = zrow[b + 1];
      return;
    }
    const long long k = std::upper_bound(before.begin(), before.end() - 1, id) - before.begin() - 1;
    i = (id - before[k]) % row();
    j = prow_lo[k] + (id - before[k]) / row();
  }
  Vec2 position(long long i, long long j) const { return {i * dx(), j * dx()}; }
  /* Corner `corner` (0..3, counter-clockwise from the lower left) of zone z. */
  long long corner_point(long long z, long long corner) const {
    const long long i = z % c.nzx, j = z / c.nzx;
    static const int di[4] = {0, 1, 1, 0}, dj[4] = {0, 0, 1, 1};
    return point_id(i + di[corner], j + dj[corner]);
  }
};

/* Sides of a zone are stored consecutively, counter-clockwise. */
inline coord_t previous_side(coord_t s) { return s - s % 4 + (s + 3) % 4; }

template <typename T>
using RO = FieldAccessor<LEGION_READ_ONLY, T, 1, coord_t, Realm::AffineAccessor<T, 1, coord_t>>;
template <typename T>
using WO = FieldAccessor<LEGION_WRITE_DISCARD, T, 1, coord_t, Realm::AffineAccessor<T, 1, coord_t>>;
template <typename T>
using RW = FieldAccessor<LEGION_READ_WRITE, T, 1, coord_t, Realm::AffineAccessor<T, 1, coord_t>>;
using SumDouble = ReductionAccessor<SumReduction<double>, true /*exclusive*/, 1, coord_t,
                                    Realm::AffineAccessor<double, 1, coord_t>>;
using SumVec2Acc = ReductionAccessor<SumVec2, true /*exclusive*/, 1, coord_t,
                                     Realm::AffineAccessor<Vec2, 1, coord_t>>;

/* A point field read through multi-region pointers: private and ghost requirements. */
template <typename T>
struct PointField {
  RO<T> priv, ghost;
  PointField(const PhysicalRegion& p, const PhysicalRegion& g, FieldID fid)
      : priv(p, fid), ghost(g, fid) {}
  T operator()(const PointPtr& q) const {
    return q.region == IN_PRIVATE ? priv[q.point] : ghost[q.point];
  }
};

Rect<1> bounds_of(Runtime* runtime, const RegionRequirement& req) {
  return Rect<1>(runtime->get_index_space_domain(req.region.get_index_space()));
}

double dt_of(const Task* task) { return task->futures[0].get_result<State>().dt; }

using Regions = const std::vector<PhysicalRegion>&;

// ------------------------------------------------------------------------------------------
// Set-up tasks

Config read_partitions_task(const Task*, Regions, Context, Runtime*) {
  Options o;
  Config c;
  c.nzx = o.integer("nzx", 8);
  c.nzy = o.integer("nzy", 12);
  c.cstop = o.integer("cstop", 3);
  c.prune = o.integer("prune", 1);
  c.npieces = o.integer("npieces", 2);
  c.numpcx = o.integer("numpcx", 1);
  c.numpcy = o.integer("numpcy", c.npieces);
  c.dump_cycle = o.integer("dump_cycle", -1);
  if (c.nzx < 1 || c.npieces < 1 || c.nzy < 2 * c.npieces || c.cstop < 1 || c.prune < 0) {
    std::fprintf(stderr, "pennant: invalid configuration (every strip needs two zone rows)\n");
    std::exit(2);
  }
  if (c.numpcx != 1 || c.numpcy != c.npieces) {
    std::fprintf(stderr, "pennant: only horizontal strips are supported (-numpcx 1 -numpcy "
                         "= -npieces)\n");
    std::exit(2);
  }
  return c;
}

// regions: [0] zones WO znump, [1] private WO px has_bcx has_bcy, [2] shared WO (same),
//          [3] sides WO mapsz mapss3 mapss4
void initialize_topology_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  const Mesh mesh(*static_cast<const Config*>(task->args));
  const WO<uint8_t> znump(regions[0], FID_ZNUMP);
  for (PointInRectIterator<1> z(bounds_of(runtime, task->regions[0])); z(); z++) znump[*z] = 4;
  for (int r = 1; r <= 2; r++) {
    const WO<Vec2> px(regions[r], FID_PX);
    const WO<bool> bcx(regions[r], FID_HAS_BCX), bcy(regions[r], FID_HAS_BCY);
    for (PointInRectIterator<1> p(bounds_of(runtime, task->regions[r])); p(); p++) {
      long long i, j;
      mesh.point_coords(p[0], i, j);
      px[*p] = mesh.position(i, j);
      bcx[*p] = (i == 0 || i == mesh.c.nzx);
      bcy[*p] = (j == 0 || j == mesh.c.nzy);
    }
  }
  const WO<int64_t> mapsz(regions[3], FID_MAPSZ), mapss3(regions[3], FID_MAPSS3),
      mapss4(regions[3], FID_MAPSS4);
  for (PointInRectIterator<1> s(bounds_of(runtime, task->regions[3])); s(); s++) {
    mapsz[*s] = s[0] / 4;
    mapss3[*s] = previous_side(s[0]);
    mapss4[*s] = s[0] - s[0] % 4 + (s[0] + 1) % 4;
  }
}

// regions: [0] private (bounds only), [1] ghost (bounds only), [2] sides RW mapsp1 mapsp2
void init_pointers_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  const Mesh mesh(*static_cast<const Config*>(task->args));
  const Rect<1> priv = bounds_of(runtime, task->regions[0]);
  const Rect<1> ghost = bounds_of(runtime, task->regions[1]);
  const RW<PointPtr> p1(regions[2], FID_MAPSP1), p2(regions[2], FID_MAPSP2);
  auto pointer = [&](long long id) {
    const Point<1, coord_t> q(id);
    if (priv.contains(q)) return PointPtr{id, IN_PRIVATE};
    if (ghost.contains(q)) return PointPtr{id, IN_GHOST};
    assertion_failed("side endpoint outside its piece's point regions");
  };
  for (PointInRectIterator<1> s(bounds_of(runtime, task->regions[2])); s(); s++) {
    const long long z = s[0] / 4, k = s[0] % 4;
    p1[*s] = pointer(mesh.corner_point(z, k));
    p2[*s] = pointer(mesh.corner_point(z, (k + 1) % 4));
  }
}

void dummy_task(const Task*, Regions, Context, Runtime*) {}

// regions: [0] zones WO zx zarea zvol
void init_mesh_zones_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  const WO<Vec2> zx(regions[0], FID_ZX);
  const WO<double> zarea(regions[0], FID_ZAREA), zvol(regions[0], FID_ZVOL);
  for (PointInRectIterator<1> z(bounds_of(runtime, task->regions[0])); z(); z++) {
    zx[*z] = Vec2{0.0, 0.0};
    zarea[*z] = 0.0;
    zvol[*z] = 0.0;
  }
}

/* Zone centres and edge midpoints from point positions (calc_centers and calc_centers_full).
 * regions: [0] zones RO znump, [1] zones RW zone centre, [2] private RO positions, [3] ghost
 *          RO positions, [4] sides RO mapsz mapsp1 mapsp2, [5] sides WO/RW edge centre */
template <typename EdgeAccessor>
void centers(const Task* task, Regions regions, Runtime* runtime, FieldID zone_field,
             FieldID point_field, FieldID edge_field) {
  const RO<uint8_t> znump(regions[0], FID_ZNUMP);
  const RW<Vec2> zc(regions[1], zone_field);
  const PointField<Vec2> x(regions[2], regions[3], point_field);
  const RO<int64_t> mapsz(regions[4], FID_MAPSZ);
  const RO<PointPtr> mapsp1(regions[4], FID_MAPSP1), mapsp2(regions[4], FID_MAPSP2);
  const EdgeAccessor edge(regions[5], edge_field);
  for (PointInRectIterator<1> z(bounds_of(runtime, task->regions[0])); z(); z++)
    zc[*z] = Vec2{0.0, 0.0};
  for (PointInRectIterator<1> s(bounds_of(runtime, task->regions[4])); s(); s++) {
    const Vec2 x1 = x(mapsp1[*s]), x2 = x(mapsp2[*s]);
    const coord_t z = mapsz[*s];
    edge[*s] = 0.5 * (x1 + x2);
    zc[z] = zc[z] + (1.0 / znump[z]) * x1;
  }
}

/* Side areas, edge lengths, zone areas and r-z volumes (calc_volumes and calc_volumes_full).
 * regions: [0] zones RO centre znump, [1] zones RW area volume, [2] private RO positions,
 *          [3] ghost RO positions, [4] sides RO mapsz mapsp1 mapsp2, [5] sides WO area (and
 *          edge length when elen_field != 0). Returns false when a zone volume is not positive. */
bool volumes(const Task* task, Regions regions, Runtime* runtime, FieldID center_field,
             FieldID area_field, FieldID volume_field, FieldID point_field,
             FieldID side_area_field, FieldID elen_field) {
  const RO<Vec2> zc(regions[0], center_field);
  const RW<double> zarea(regions[1], area_field), zvol(regions[1], volume_field);
  const PointField<Vec2> x(regions[2], regions[3], point_field);
  const RO<int64_t> mapsz(regions[4], FID_MAPSZ);
  const RO<PointPtr> mapsp1(regions[4], FID_MAPSP1), mapsp2(regions[4], FID_MAPSP2);
  const WO<double> sarea(regions[5], side_area_field);
  const Rect<1> zones = bounds_of(runtime, task->regions[0]);
  for (PointInRectIterator<1> z(zones); z(); z++) {
    zarea[*z] = 0.0;
    zvol[*z] = 0.0;
  }
  for (PointInRectIterator<1> s(bounds_of(runtime, task->regions[4])); s(); s++) {
    const coord_t z = mapsz[*s];
    const Vec2 x1 = x(mapsp1[*s]), x2 = x(mapsp2[*s]), c = zc[z];
    const double area = 0.5 * cross(x2 - x1, c - x1);
    const double volume = area * (x1.x + x2.x + c.x) / 3.0;  // r-z: area times mean radius
    sarea[*s] = area;
    zarea[z] = zarea[z] + area;
    zvol[z] = zvol[z] + volume;
  }
  if (elen_field != 0) {
    const WO<double> elen(regions[5], elen_field);
    for (PointInRectIterator<1> s(bounds_of(runtime, task->regions[4])); s(); s++)
      elen[*s] = length(x(mapsp2[*s]) - x(mapsp1[*s]));
  }
  for (PointInRectIterator<1> z(zones); z(); z++)
    if (!(zvol[*z] > 0.0)) return false;
  return true;
}

void calc_centers_full_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  centers<RW<Vec2>>(task, regions, runtime, FID_ZX, FID_PX, FID_EX);
}

void calc_volumes_full_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  if (!volumes(task, regions, runtime, FID_ZX, FID_ZAREA, FID_ZVOL, FID_PX, FID_SAREA, 0))
    assertion_failed("negative zone volume in calc_volumes_full");
}

// regions: [0] zones RO zarea, [1] private none, [2] ghost none, [3] sides RO mapsz sarea,
//          [4] sides WO smf
void init_side_fracs_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  const RO<double> zarea(regions[0], FID_ZAREA);
  const RO<int64_t> mapsz(regions[3], FID_MAPSZ);
  const RO<double> sarea(regions[3], FID_SAREA);
  const WO<double> smf(regions[4], FID_SMF);
  for (PointInRectIterator<1> s(bounds_of(runtime, task->regions[3])); s(); s++)
    smf[*s] = sarea[*s] / zarea[mapsz[*s]];
}

// regions: [0] zones RO zx zvol, [1] zones WO zr ze zwrate zm zetot
void init_hydro_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  const Mesh mesh(*static_cast<const Config*>(task->args));
  const RO<Vec2> zx(regions[0], FID_ZX);
  const RO<double> zvol(regions[0], FID_ZVOL);
  const WO<double> zr(regions[1], FID_ZR), ze(regions[1], FID_ZE), zwrate(regions[1], FID_ZWRATE),
      zm(regions[1], FID_ZM), zetot(regions[1], FID_ZETOT);
  // The blast: the energy of the deck deposited in the corner square of side `blast` at the
  // axis (r-z volume per radian of [0, b] × [0, b] is b³ / 2).
  const double blast = std::max<long long>(1, mesh.c.nzx / 16) * mesh.dx();
  const double blast_energy = kBlastEnergy / (kRhoInit * 0.5 * blast * blast * blast);
  for (PointInRectIterator<1> z(bounds_of(runtime, task->regions[0])); z(); z++) {
    const Vec2 c = zx[*z];
    const bool inside = c.x < blast && c.y < blast;
    zr[*z] = kRhoInit;
    ze[*z] = inside ? blast_energy : kEnergyInit;
    zm[*z] = kRhoInit * zvol[*z];
    zetot[*z] = ze[*z] * zm[*z];
    zwrate[*z] = 0.0;
  }
}

// regions: [0] points RO px, [1] points WO pu
void init_radial_velocity_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  const RO<Vec2> px(regions[0], FID_PX);
  const WO<Vec2> pu(regions[1], FID_PU);
  for (PointInRectIterator<1> p(bounds_of(runtime, task->regions[0])); p(); p++) {
    const Vec2 x = px[*p];
    const double r = length(x);
    pu[*p] = r > 1e-12 ? (kUInitRadial / r) * x : Vec2{0.0, 0.0};
  }
}

void output0_task(const Task* task, Regions, Context, Runtime*) {
  const OutputArgs& a = *static_cast<const OutputArgs*>(task->args);
  std::printf("Running test (t=%.1f)...\n", 0.0);
  std::printf("Initializing (t=%.1f)...\n", a.started_at);
  std::fflush(stdout);
}

void output1_task(const Task* task, Regions, Context, Runtime*) {
  const OutputArgs& a = *static_cast<const OutputArgs*>(task->args);
  std::printf("Starting simulation (t=%.1f)...\n", a.started_at);
  std::fflush(stdout);
}

void output5_task(const Task* task, Regions, Context, Runtime*) {
  const OutputArgs& a = *static_cast<const OutputArgs*>(task->args);
  std::printf("INIT TIME = %7.3f s\n", a.init_time);
  std::printf("ELAPSED TIME = %7.3f s\n", a.elapsed);
  std::printf("Elapsed time = %.6e (total)\n", a.elapsed);
  std::printf("Warning: Skipping sequential validation\n");
  std::fflush(stdout);
  report_timing(a.init_time, a.elapsed, a.window_start, a.window_stop);
}

// ------------------------------------------------------------------------------------------
// Tasks of one cycle (apps.md §3.4, in launch order)

// regions: [0] points WO pmaswt pf
void init_step_points_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  const WO<double> pmaswt(regions[0], FID_PMASWT);
  const WO<Vec2> pf(regions[0], FID_PF);
  for (PointInRectIterator<1> p(bounds_of(runtime, task->regions[0])); p(); p++) {
    pmaswt[*p] = 0.0;
    pf[*p] = Vec2{0.0, 0.0};
  }
}

// regions: [0] zones RO zvol, [1] zones WO zvol0
void init_step_zones_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  const RO<double> zvol(regions[0], FID_ZVOL);
  const WO<double> zvol0(regions[1], FID_ZVOL0);
  for (PointInRectIterator<1> z(bounds_of(runtime, task->regions[0])); z(); z++)
    zvol0[*z] = zvol[*z];
}

/* futures: [0] the previous cycle's State, [1] its MIN-reduced hydro time step. */
State calc_global_dt_task(const Task* task, Regions, Context, Runtime*) {
  const State last = task->futures[0].get_result<State>();
  const double dt_hydro = task->futures[1].get_result<double>();
  double dt = kDtInit;
  if (last.cycle > 0) {
    dt = std::min(kDtMax, std::min(dt_hydro, kDtFac * last.dt));
  }
  // Land exactly on the stop time.
  if (last.time + dt >= kTstop) dt = kTstop - last.time;
  else if (last.time + 2.0 * dt > kTstop) dt = 0.5 * (kTstop - last.time);
  return State{dt, last.time + dt, last.cycle + 1};
}

// regions: [0] points RO px pu, [1] points WO px0 pxp pu0; futures: [0] dt
void adv_pos_half_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  const double dt = dt_of(task);
  const RO<Vec2> px(regions[0], FID_PX), pu(regions[0], FID_PU);
  const WO<Vec2> px0(regions[1], FID_PX0), pxp(regions[1], FID_PXP), pu0(regions[1], FID_PU0);
  for (PointInRectIterator<1> p(bounds_of(runtime, task->regions[0])); p(); p++) {
    const Vec2 x = px[*p], u = pu[*p];
    px0[*p] = x;
    pu0[*p] = u;
    pxp[*p] = x + (0.5 * dt) * u;
  }
}

void calc_centers_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  centers<WO<Vec2>>(task, regions, runtime, FID_ZXP, FID_PXP, FID_EXP);
}

void calc_volumes_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  if (!volumes(task, regions, runtime, FID_ZXP, FID_ZAREAP, FID_ZVOLP, FID_PXP, FID_SAREAP,
               FID_ELEN))
    assertion_failed("negative zone volume in calc_volumes");
}

// regions: [0] zones RO znump, [1] zones RW zdl, [2] private none, [3] ghost none,
//          [4] sides RO mapsz sareap elen
void calc_char_len_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  const RO<uint8_t> znump(regions[0], FID_ZNUMP);
  const RW<double> zdl(regions[1], FID_ZDL);
  const RO<int64_t> mapsz(regions[4], FID_MAPSZ);
  const RO<double> sarea(regions[4], FID_SAREAP), elen(regions[4], FID_ELEN);
  for (PointInRectIterator<1> z(bounds_of(runtime, task->regions[0])); z(); z++) zdl[*z] = 1e99;
  for (PointInRectIterator<1> s(bounds_of(runtime, task->regions[4])); s(); s++) {
    const coord_t z = mapsz[*s];
    const double factor = znump[z] == 3 ? 3.0 : 4.0;
    zdl[z] = std::min(zdl[z], factor * sarea[*s] / elen[*s]);
  }
}

// regions: [0] zones RO zvolp zm, [1] zones WO zrp
void calc_rho_half_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  const RO<double> zvolp(regions[0], FID_ZVOLP), zm(regions[0], FID_ZM);
  const WO<double> zrp(regions[1], FID_ZRP);
  for (PointInRectIterator<1> z(bounds_of(runtime, task->regions[0])); z(); z++)
    zrp[*z] = zm[*z] / zvolp[*z];
}

// regions: [0] zones RO zareap zrp, [1] private RW pmaswt, [2] ghost RED pmaswt,
//          [3] sides RO mapsz mapsp1 mapss3 smf
void sum_point_mass_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  const RO<double> zareap(regions[0], FID_ZAREAP), zrp(regions[0], FID_ZRP);
  const RW<double> private_mass(regions[1], FID_PMASWT);
  const SumDouble ghost_mass(regions[2], FID_PMASWT, LEGION_REDOP_SUM_FLOAT64);
  const RO<int64_t> mapsz(regions[3], FID_MAPSZ), mapss3(regions[3], FID_MAPSS3);
  const RO<PointPtr> mapsp1(regions[3], FID_MAPSP1);
  const RO<double> smf(regions[3], FID_SMF);
  for (PointInRectIterator<1> s(bounds_of(runtime, task->regions[3])); s(); s++) {
    const coord_t z = mapsz[*s];
    // The corner at the side's first point: half of this side and half of the previous one.
    const double mass = zrp[z] * zareap[z] * 0.5 * (smf[*s] + smf[mapss3[*s]]);
    const PointPtr p = mapsp1[*s];
    if (p.region == IN_PRIVATE) private_mass[p.point] = private_mass[p.point] + mass;
    else ghost_mass[p.point] <<= mass;
  }
}

// regions: [0] zones RO zvol0 zvolp zm zr ze zwrate, [1] zones WO zp zss; futures: [0] dt
void calc_state_at_half_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  const double dth = 0.5 * dt_of(task);
  const RO<double> zvol0(regions[0], FID_ZVOL0), zvolp(regions[0], FID_ZVOLP),
      zm(regions[0], FID_ZM), zr(regions[0], FID_ZR), ze(regions[0], FID_ZE),
      zwrate(regions[0], FID_ZWRATE);
  const WO<double> zp(regions[1], FID_ZP), zss(regions[1], FID_ZSS);
  const double gm1 = kGamma - 1.0, ss2 = std::max(kSsmin * kSsmin, 1e-99);
  for (PointInRectIterator<1> z(bounds_of(runtime, task->regions[0])); z(); z++) {
    // Polytropic EOS at the start of the step ...
    const double rho = zr[*z], e = std::max(ze[*z], 0.0);
    const double p = gm1 * rho * e;
    const double dp_de = gm1 * rho;  // pressure derivative w.r.t. energy at fixed density
    const double csqd = std::max(ss2, gm1 * e + dp_de * p / (rho * rho));
    const double ss = std::sqrt(csqd);
    // ... advanced to the half step: compression and the work rate of the last step.
    const double minv = 1.0 / zm[*z];
    const double dv = (zvolp[*z] - zvol0[*z]) * minv;
    const double bulk = rho * csqd;
    const double denom = 1.0 + 0.5 * dp_de * dv;
    const double src = zwrate[*z] * dth * minv;
    zp[*z] = p + (dp_de * src - rho * bulk * dv) / denom;
    zss[*z] = ss;
  }
}

// regions: [0] zones RO zxp zareap zrp zss zp, [1] private none, [2] ghost none,
//          [3] sides RO mapsz sareap smf exp, [4] sides WO sfp sft
void calc_force_pgas_tts_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  const RO<Vec2> zxp(regions[0], FID_ZXP);
  const RO<double> zareap(regions[0], FID_ZAREAP), zrp(regions[0], FID_ZRP),
      zss(regions[0], FID_ZSS), zp(regions[0], FID_ZP);
  const RO<int64_t> mapsz(regions[3], FID_MAPSZ);
  const RO<double> sareap(regions[3], FID_SAREAP), smf(regions[3], FID_SMF);
  const RO<Vec2> edge_center(regions[3], FID_EXP);
  const WO<Vec2> sfp(regions[4], FID_SFP), sft(regions[4], FID_SFT);
  for (PointInRectIterator<1> s(bounds_of(runtime, task->regions[3])); s(); s++) {
    const coord_t z = mapsz[*s];
    const Vec2 surface = rotate_ccw(edge_center[*s] - zxp[z]);
    // PGAS: the zone pressure on the side's surface.
    const Vec2 pressure = -zp[z] * surface;
    // TTS: the side's subzone density against the zone's, as a restoring pressure.
    const double srho = zrp[z] * smf[*s] * zareap[z] / sareap[*s];
    double sstmp = std::max(zss[z], kSsmin);
    sstmp = kAlfa * sstmp * sstmp;
    const double sdp = sstmp * (srho - zrp[z]);
    sfp[*s] = pressure;
    sft[*s] = pressure + (-sdp) * surface;
  }
}

// regions: [0] zones RO znump, [1] zones RW zuc, [2] private RO pu, [3] ghost RO pu,
//          [4] sides RO mapsz mapsp1 mapsp2
void qcs_zone_center_velocity_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  const RO<uint8_t> znump(regions[0], FID_ZNUMP);
  const RW<Vec2> zuc(regions[1], FID_ZUC);
  const PointField<Vec2> pu(regions[2], regions[3], FID_PU);
  const RO<int64_t> mapsz(regions[4], FID_MAPSZ);
  const RO<PointPtr> mapsp1(regions[4], FID_MAPSP1);
  for (PointInRectIterator<1> z(bounds_of(runtime, task->regions[0])); z(); z++)
    zuc[*z] = Vec2{0.0, 0.0};
  for (PointInRectIterator<1> s(bounds_of(runtime, task->regions[4])); s(); s++) {
    const coord_t z = mapsz[*s];
    zuc[z] = zuc[z] + (1.0 / znump[z]) * pu(mapsp1[*s]);
  }
}

// regions: [0] zones RO zxp zuc, [1] private RO pxp pu, [2] ghost RO pxp pu,
//          [3] sides RO mapsz mapsp1 mapsp2 exp elen, [4] sides WO carea ccos cdiv cevol cdu
void qcs_corner_divergence_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  const RO<Vec2> zxp(regions[0], FID_ZXP), zuc(regions[0], FID_ZUC);
  const PointField<Vec2> pxp(regions[1], regions[2], FID_PXP), pu(regions[1], regions[2], FID_PU);
  const RO<int64_t> mapsz(regions[3], FID_MAPSZ);
  const RO<PointPtr> mapsp1(regions[3], FID_MAPSP1), mapsp2(regions[3], FID_MAPSP2);
  const RO<Vec2> edge_center(regions[3], FID_EXP);
  const RO<double> elen(regions[3], FID_ELEN);
  const WO<double> carea(regions[4], FID_CAREA), ccos(regions[4], FID_CCOS),
      cdiv(regions[4], FID_CDIV), cevol(regions[4], FID_CEVOL), cdu(regions[4], FID_CDU);
  for (PointInRectIterator<1> c(bounds_of(runtime, task->regions[3])); c(); c++) {
    // Corner c sits at the first point of side c, between the previous side s and side c.
    const coord_t s = previous_side(c[0]);
    const coord_t z = mapsz[*c];
    const PointPtr p = mapsp1[*c], p1 = mapsp1[s], p2 = mapsp2[*c];
    // The corner quadrilateral: point, midpoint of side c, zone centre, midpoint of side s.
    const Vec2 up0 = pu(p), xp0 = pxp(p);
    const Vec2 up1 = 0.5 * (pu(p) + pu(p2)), xp1 = edge_center[*c];
    const Vec2 up2 = zuc[z], xp2 = zxp[z];
    const Vec2 up3 = 0.5 * (pu(p1) + pu(p)), xp3 = edge_center[s];
    const double cvolume = 0.5 * cross(xp2 - xp0, xp3 - xp1);
    carea[*c] = cvolume;
    const Vec2 v1 = xp3 - xp0, v2 = xp1 - xp0;
    const double de1 = elen[s], de2 = elen[*c];
    const double minelen = std::min(de1, de2);
    ccos[*c] = minelen < 1e-12 ? 0.0 : 4.0 * dot(v1, v2) / (de1 * de2);
    const double div =
        (cross(up2 - up0, xp3 - xp1) - cross(up3 - up1, xp2 - xp0)) / (2.0 * cvolume);
    cdiv[*c] = div;
    // Evolution factor: the corner's length scale along the velocity.
    const Vec2 dxx1 = 0.5 * (xp1 + xp2 - xp0 - xp3), dxx2 = 0.5 * (xp2 + xp3 - xp0 - xp1);
    const double dx1 = length(dxx1), dx2 = length(dxx2);
    const Vec2 duav = 0.25 * (up0 + up1 + up2 + up3);
    const double test1 = std::fabs(dot(dxx1, duav) * dx2), test2 = std::fabs(dot(dxx2, duav) * dx1);
    const double num = test1 > test2 ? dx1 : dx2, den = test1 > test2 ? dx2 : dx1;
    const double evol = std::min(std::sqrt(4.0 * cvolume * num / den), 2.0 * minelen);
    const double dv1 = length2(up1 + up2 - up0 - up3), dv2 = length2(up2 + up3 - up0 - up1);
    const double du = std::sqrt(std::max(dv1, dv2));
    cevol[*c] = div < 0.0 ? evol : 0.0;
    cdu[*c] = div < 0.0 ? du : 0.0;
  }
}

// regions: [0] zones RO zrp zss, [1] private RO pu, [2] ghost RO pu,
//          [3] sides RO mapsz mapsp1 mapsp2 elen cdiv cdu cevol, [4] sides WO cqe1 cqe2
void qcs_qcn_force_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  const RO<double> zrp(regions[0], FID_ZRP), zss(regions[0], FID_ZSS);
  const PointField<Vec2> pu(regions[1], regions[2], FID_PU);
  const RO<int64_t> mapsz(regions[3], FID_MAPSZ);
  const RO<PointPtr> mapsp1(regions[3], FID_MAPSP1), mapsp2(regions[3], FID_MAPSP2);
  const RO<double> elen(regions[3], FID_ELEN), cdiv(regions[3], FID_CDIV),
      cdu(regions[3], FID_CDU), cevol(regions[3], FID_CEVOL);
  const WO<Vec2> cqe1(regions[4], FID_CQE1), cqe2(regions[4], FID_CQE2);
  const double gammap1 = kGamma + 1.0;
  for (PointInRectIterator<1> c(bounds_of(runtime, task->regions[3])); c(); c++) {
    const coord_t z = mapsz[*c], s = previous_side(c[0]);
    // Christensen's viscosity coefficient of the corner.
    const double ztmp2 = kQ2 * 0.25 * gammap1 * cdu[*c];
    const double ztmp1 = kQ1 * zss[z];
    const double zkur = ztmp2 + std::sqrt(ztmp2 * ztmp2 + ztmp1 * ztmp1);
    const double rmu = cdiv[*c] > 0.0 ? 0.0 : zkur * zrp[z] * cevol[*c];
    const PointPtr p = mapsp1[*c], p1 = mapsp1[s], p2 = mapsp2[*c];
    cqe1[*c] = (rmu / elen[s]) * (pu(p) - pu(p1));
    cqe2[*c] = (rmu / elen[*c]) * (pu(p2) - pu(p));
  }
}

// regions: [0] zones none, [1] private none, [2] ghost none,
//          [3] sides RO mapss4 elen carea ccos cqe1 cqe2, [4] sides WO sfq
void qcs_force_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  const RO<int64_t> mapss4(regions[3], FID_MAPSS4);
  const RO<double> elen(regions[3], FID_ELEN), carea(regions[3], FID_CAREA),
      ccos(regions[3], FID_CCOS);
  const RO<Vec2> cqe1(regions[3], FID_CQE1), cqe2(regions[3], FID_CQE2);
  const WO<Vec2> sfq(regions[4], FID_SFQ);
  auto weight = [&](coord_t c, double& w, double& cosine) {
    const double sin2 = 1.0 - ccos[c] * ccos[c];
    w = sin2 < 1e-4 ? 0.0 : carea[c] / sin2;
    cosine = sin2 < 1e-4 ? 0.0 : ccos[c];
  };
  for (PointInRectIterator<1> s(bounds_of(runtime, task->regions[3])); s(); s++) {
    // The side's two corners: at its first point (c1 = s) and at its second (c2 = next side).
    const coord_t c1 = s[0], c2 = mapss4[*s];
    double w1, cos1, w2, cos2;
    weight(c1, w1, cos1);
    weight(c2, w2, cos2);
    sfq[*s] = (1.0 / elen[*s]) *
              (w1 * (cqe2[c1] + cos1 * cqe1[c1]) + w2 * (cqe1[c2] + cos2 * cqe2[c2]));
  }
}

// regions: [0] zones RO zss, [1] zones WO zdu, [2] zones RW z0tmp, [3] private RO pxp pu,
//          [4] ghost RO pxp pu, [5] sides RO mapsz mapsp1 mapsp2 elen
void qcs_vel_diff_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  const RO<double> zss(regions[0], FID_ZSS);
  const WO<double> zdu(regions[1], FID_ZDU);
  const RW<double> z0tmp(regions[2], FID_Z0TMP);
  const PointField<Vec2> pxp(regions[3], regions[4], FID_PXP), pu(regions[3], regions[4], FID_PU);
  const RO<int64_t> mapsz(regions[5], FID_MAPSZ);
  const RO<PointPtr> mapsp1(regions[5], FID_MAPSP1), mapsp2(regions[5], FID_MAPSP2);
  const RO<double> elen(regions[5], FID_ELEN);
  const Rect<1> zones = bounds_of(runtime, task->regions[0]);
  for (PointInRectIterator<1> z(zones); z(); z++) z0tmp[*z] = 0.0;
  for (PointInRectIterator<1> s(bounds_of(runtime, task->regions[5])); s(); s++) {
    const PointPtr p1 = mapsp1[*s], p2 = mapsp2[*s];
    const Vec2 dx = pxp(p2) - pxp(p1), du = pu(p2) - pu(p1);
    const double lenx = elen[*s];
    const double dux = lenx > 0.0 ? std::fabs(dot(du, dx)) / lenx : 0.0;
    const coord_t z = mapsz[*s];
    z0tmp[z] = std::max(z0tmp[z], dux);
  }
  for (PointInRectIterator<1> z(zones); z(); z++)
    zdu[*z] = kQ1 * zss[*z] + 2.0 * kQ2 * z0tmp[*z];
}

// regions: [0] zones RO znump, [1] private RW pf, [2] ghost RED pf,
//          [3] sides RO mapsz mapsp1 mapss3 sfq sft
void sum_point_force_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  const RO<uint8_t> znump(regions[0], FID_ZNUMP);
  const RW<Vec2> private_force(regions[1], FID_PF);
  const SumVec2Acc ghost_force(regions[2], FID_PF, REDOP_SUM_VEC2);
  const RO<int64_t> mapsz(regions[3], FID_MAPSZ), mapss3(regions[3], FID_MAPSS3);
  const RO<PointPtr> mapsp1(regions[3], FID_MAPSP1);
  const RO<Vec2> sfq(regions[3], FID_SFQ), sft(regions[3], FID_SFT);
  for (PointInRectIterator<1> s(bounds_of(runtime, task->regions[3])); s(); s++) {
    if (znump[mapsz[*s]] == 0) continue;  // a zone without points exerts no force
    // The corner force at the side's first point: this side's total force minus the
    // previous side's (PGAS + TTS in sft, QCS in sfq).
    const coord_t s3 = mapss3[*s];
    const Vec2 force = (sfq[*s] + sft[*s]) - (sfq[s3] + sft[s3]);
    const PointPtr p = mapsp1[*s];
    if (p.region == IN_PRIVATE) private_force[p.point] = private_force[p.point] + force;
    else ghost_force[p.point] <<= force;
  }
}

// regions: [0] points RO has_bcx has_bcy, [1] points RW pu0 pf
void apply_boundary_conditions_task(const Task* task, Regions regions, Context,
                                    Runtime* runtime) {
  const RO<bool> bcx(regions[0], FID_HAS_BCX), bcy(regions[0], FID_HAS_BCY);
  const RW<Vec2> pu0(regions[1], FID_PU0), pf(regions[1], FID_PF);
  for (PointInRectIterator<1> p(bounds_of(runtime, task->regions[0])); p(); p++) {
    // Reflecting walls: no velocity and no force across the boundary.
    Vec2 u = pu0[*p], f = pf[*p];
    if (bcx[*p]) u.x = f.x = 0.0;
    if (bcy[*p]) u.y = f.y = 0.0;
    pu0[*p] = u;
    pf[*p] = f;
  }
}

// regions: [0] points RO px0 pu0 pf pmaswt, [1] points WO px pu; futures: [0] dt
void adv_pos_full_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  const double dt = dt_of(task);
  const RO<Vec2> px0(regions[0], FID_PX0), pu0(regions[0], FID_PU0), pf(regions[0], FID_PF);
  const RO<double> pmaswt(regions[0], FID_PMASWT);
  const WO<Vec2> px(regions[1], FID_PX), pu(regions[1], FID_PU);
  for (PointInRectIterator<1> p(bounds_of(runtime, task->regions[0])); p(); p++) {
    const Vec2 acceleration = (1.0 / std::max(pmaswt[*p], kFuzz)) * pf[*p];
    const Vec2 u0 = pu0[*p];
    const Vec2 u = u0 + dt * acceleration;
    pu[*p] = u;
    px[*p] = px0[*p] + (0.5 * dt) * (u + u0);
  }
}

// regions: [0] zones RO znump, [1] zones RW zw zetot, [2] private RO pxp pu0 pu,
//          [3] ghost RO pxp pu0 pu, [4] sides RO mapsz mapsp1 mapsp2 sfp sfq; futures: [0] dt
void calc_work_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  const double dth = 0.5 * dt_of(task);
  const RO<uint8_t> znump(regions[0], FID_ZNUMP);
  const RW<double> zw(regions[1], FID_ZW), zetot(regions[1], FID_ZETOT);
  const PointField<Vec2> pxp(regions[2], regions[3], FID_PXP), pu0(regions[2], regions[3], FID_PU0),
      pu(regions[2], regions[3], FID_PU);
  const RO<int64_t> mapsz(regions[4], FID_MAPSZ);
  const RO<PointPtr> mapsp1(regions[4], FID_MAPSP1), mapsp2(regions[4], FID_MAPSP2);
  const RO<Vec2> sfp(regions[4], FID_SFP), sfq(regions[4], FID_SFQ);
  for (PointInRectIterator<1> z(bounds_of(runtime, task->regions[0])); z(); z++) zw[*z] = 0.0;
  for (PointInRectIterator<1> s(bounds_of(runtime, task->regions[4])); s(); s++) {
    const coord_t z = mapsz[*s];
    if (znump[z] == 0) continue;
    // Work of the pressure and viscosity forces (TTS does no work) over the step, r-z weighted.
    const Vec2 f = sfp[*s] + sfq[*s];
    const PointPtr p1 = mapsp1[*s], p2 = mapsp2[*s];
    const double sd1 = dot(f, pu0(p1) + pu(p1));
    const double sd2 = dot(-f, pu0(p2) + pu(p2));
    const double work = -dth * (sd1 * pxp(p1).x + sd2 * pxp(p2).x);
    zetot[z] = zetot[z] + work;
    zw[z] = zw[z] + work;
  }
}

// regions: [0] zones RO zvol0 zvol zm zw zp zetot, [1] zones WO zwrate ze zr; futures: [0] dt
void calc_work_rate_energy_rho_full_task(const Task* task, Regions regions, Context,
                                         Runtime* runtime) {
  const double dt = dt_of(task);
  const RO<double> zvol0(regions[0], FID_ZVOL0), zvol(regions[0], FID_ZVOL),
      zm(regions[0], FID_ZM), zw(regions[0], FID_ZW), zp(regions[0], FID_ZP),
      zetot(regions[0], FID_ZETOT);
  const WO<double> zwrate(regions[1], FID_ZWRATE), ze(regions[1], FID_ZE), zr(regions[1], FID_ZR);
  for (PointInRectIterator<1> z(bounds_of(runtime, task->regions[0])); z(); z++) {
    const double dvol = zvol[*z] - zvol0[*z];
    zwrate[*z] = (zw[*z] + zp[*z] * dvol) / dt;
    ze[*z] = zetot[*z] / (zm[*z] + kFuzz);
    zr[*z] = zm[*z] / zvol[*z];
  }
}

// regions: [0] zones RO zdl zvol0 zvol zss zdu; futures: [0] dt; args: the dump cycle.
// Returns the piece's limit. With -dump_cycle N, the cycle-N launch also prints every zone's
// sound speed to stderr (`MAPGYM zone cycle=N id=Z ss=S`), which lets tests check the physics
// (a Sedov blast must stay spherical in r-z) without adding a task to the program.
double calc_dt_hydro_task(const Task* task, Regions regions, Context, Runtime* runtime) {
  const State state = task->futures[0].get_result<State>();
  const double dtlast = state.dt;
  const bool dump = state.cycle == *static_cast<const long long*>(task->args);
  const RO<double> zdl(regions[0], FID_ZDL), zvol0(regions[0], FID_ZVOL0),
      zvol(regions[0], FID_ZVOL), zss(regions[0], FID_ZSS), zdu(regions[0], FID_ZDU);
  double dt_courant = 1e99, dvovmax = 1e-99;
  for (PointInRectIterator<1> z(bounds_of(runtime, task->regions[0])); z(); z++) {
    if (dump)
      std::fprintf(stderr, "MAPGYM zone cycle=%lld id=%lld ss=%.9e\n", state.cycle,
                   static_cast<long long>(z[0]), zss[*z]);
    const double cdu = std::max(zdu[*z], std::max(zss[*z], kFuzz));
    dt_courant = std::min(dt_courant, zdl[*z] * kCfl / cdu);
    dvovmax = std::max(dvovmax, std::fabs(zvol[*z] - zvol0[*z]) / zvol0[*z]);
  }
  const double dt_volume = dtlast * kCflv / dvovmax;
  return std::min(dt_courant, dt_volume);
}

/* futures: [0] this cycle's State. The loop predicate of the top-level task. */
bool continue_simulation_task(const Task* task, Regions, Context, Runtime*) {
  const State state = task->futures[0].get_result<State>();
  const long long cycles = *static_cast<const long long*>(task->args);
  return state.cycle < cycles && state.time < kTstop;
}

// ------------------------------------------------------------------------------------------
// The top-level task

/* One region argument of a launch, split into requirements by privilege group in the model's
 * order (RO, WO, RW, RED); an argument without fields is one NO_ACCESS requirement. */
struct Argument {
  LogicalPartition partition;
  LogicalRegion parent;
  std::vector<FieldID> ro, wo, rw, red;
  ReductionOpID redop = 0;
};

void add_argument(IndexTaskLauncher& launcher, const Argument& a) {
  bool any = false;
  auto add = [&](const std::vector<FieldID>& fields, PrivilegeMode mode) {
    if (fields.empty()) return;
    RegionRequirement r(a.partition, 0, mode, LEGION_EXCLUSIVE, a.parent);
    for (FieldID f : fields) r.add_field(f);
    launcher.add_region_requirement(r);
    any = true;
  };
  add(a.ro, LEGION_READ_ONLY);
  add(a.wo, LEGION_WRITE_DISCARD);
  add(a.rw, LEGION_READ_WRITE);
  if (!a.red.empty()) {
    RegionRequirement r(a.partition, 0, a.redop, LEGION_EXCLUSIVE, a.parent);
    for (FieldID f : a.red) r.add_field(f);
    launcher.add_region_requirement(r);
    any = true;
  }
  if (!any)
    launcher.add_region_requirement(
        RegionRequirement(a.partition, 0, LEGION_NO_ACCESS, LEGION_EXCLUSIVE, a.parent));
}

void toplevel_task(const Task*, Regions, Context ctx, Runtime* runtime) {
  const int64_t program_start = now_ns();
  auto seconds_since_start = [&]() { return (now_ns() - program_start) * 1e-9; };
  auto single = [&](TaskID id, const void* args, size_t size) {
    TaskLauncher launcher(id, UntypedBuffer(args, size));
    launcher.map_arg = launch_group(0);
    return runtime->execute_task(ctx, launcher);
  };
  {
    OutputArgs out{seconds_since_start(), 0.0, 0.0, 0, 0};
    single(OUTPUT0_TASK, &out, sizeof(out));
  }
  const Config c = single(READ_PARTITIONS_TASK, nullptr, 0).get_result<Config>();
  const Mesh mesh(c);
  const long long n = c.npieces;

  FieldSpace zone_fs = field_space(ctx, runtime, {
      {FID_ZXP, {sizeof(Vec2), "zxp"}}, {FID_ZX, {sizeof(Vec2), "zx"}},
      {FID_ZUC, {sizeof(Vec2), "zuc"}}, {FID_ZAREAP, {sizeof(double), "zareap"}},
      {FID_ZAREA, {sizeof(double), "zarea"}}, {FID_ZVOL0, {sizeof(double), "zvol0"}},
      {FID_ZVOLP, {sizeof(double), "zvolp"}}, {FID_ZVOL, {sizeof(double), "zvol"}},
      {FID_ZDL, {sizeof(double), "zdl"}}, {FID_ZM, {sizeof(double), "zm"}},
      {FID_ZRP, {sizeof(double), "zrp"}}, {FID_ZR, {sizeof(double), "zr"}},
      {FID_ZE, {sizeof(double), "ze"}}, {FID_ZETOT, {sizeof(double), "zetot"}},
      {FID_ZW, {sizeof(double), "zw"}}, {FID_ZWRATE, {sizeof(double), "zwrate"}},
      {FID_ZP, {sizeof(double), "zp"}}, {FID_ZSS, {sizeof(double), "zss"}},
      {FID_ZDU, {sizeof(double), "zdu"}}, {FID_Z0TMP, {sizeof(double), "z0tmp"}},
      {FID_ZNUMP, {sizeof(uint8_t), "znump"}}});
  FieldSpace point_fs = field_space(ctx, runtime, {
      {FID_PX0, {sizeof(Vec2), "px0"}}, {FID_PXP, {sizeof(Vec2), "pxp"}},
      {FID_PX, {sizeof(Vec2), "px"}}, {FID_PU0, {sizeof(Vec2), "pu0"}},
      {FID_PU, {sizeof(Vec2), "pu"}}, {FID_PAP, {sizeof(Vec2), "pap"}},
      {FID_PF, {sizeof(Vec2), "pf"}}, {FID_PMASWT, {sizeof(double), "pmaswt"}},
      {FID_HAS_BCX, {sizeof(bool), "has_bcx"}}, {FID_HAS_BCY, {sizeof(bool), "has_bcy"}}});
  FieldSpace side_fs = field_space(ctx, runtime, {
      {FID_MAPSZ, {sizeof(int64_t), "mapsz"}}, {FID_MAPSP1, {sizeof(PointPtr), "mapsp1"}},
      {FID_MAPSP2, {sizeof(PointPtr), "mapsp2"}}, {FID_MAPSS3, {sizeof(int64_t), "mapss3"}},
      {FID_MAPSS4, {sizeof(int64_t), "mapss4"}}, {FID_SAREAP, {sizeof(double), "sareap"}},
      {FID_SAREA, {sizeof(double), "sarea"}}, {FID_SVOLP, {sizeof(double), "svolp"}},
      {FID_SVOL, {sizeof(double), "svol"}}, {FID_SMF, {sizeof(double), "smf"}},
      {FID_ELEN, {sizeof(double), "elen"}}, {FID_CAREA, {sizeof(double), "carea"}},
      {FID_CEVOL, {sizeof(double), "cevol"}}, {FID_CDU, {sizeof(double), "cdu"}},
      {FID_CDIV, {sizeof(double), "cdiv"}}, {FID_CCOS, {sizeof(double), "ccos"}},
      {FID_SSURFP, {sizeof(Vec2), "ssurfp"}}, {FID_SFP, {sizeof(Vec2), "sfp"}},
      {FID_SFT, {sizeof(Vec2), "sft"}}, {FID_SFQ, {sizeof(Vec2), "sfq"}},
      {FID_EXP, {sizeof(Vec2), "exp"}}, {FID_EX, {sizeof(Vec2), "ex"}},
      {FID_CQE1, {sizeof(Vec2), "cqe1"}}, {FID_CQE2, {sizeof(Vec2), "cqe2"}}});

  auto region = [&](long long size, FieldSpace fs, const char* name) {
    IndexSpace is = runtime->create_index_space(ctx, Rect<1>(0, size - 1));
    LogicalRegion lr = runtime->create_logical_region(ctx, is, fs);
    runtime->attach_name(lr, name);
    return lr;
  };
  const long long zones = mesh.zones(), private_total = mesh.private_points();
  LogicalRegion rz_all = region(zones, zone_fs, "rz_all");
  LogicalRegion rs_all = region(4 * zones, side_fs, "rs_all");
  LogicalRegion rp_all = region(mesh.points(), point_fs, "rp_all");

  // rp_all = rp_all_private ∪ rp_all_ghost (the boundary rows).
  IndexSpace halves = runtime->create_index_space(ctx, Rect<1>(0, 1));
  std::map<DomainPoint, Domain> split;
  split[DomainPoint(Point<1, coord_t>(0))] = Domain(Rect<1>(0, private_total - 1));
  split[DomainPoint(Point<1, coord_t>(1))] = Domain(Rect<1>(private_total, mesh.points() - 1));
  LogicalPartition rp_all_p = by_domain(ctx, runtime, rp_all, halves, split,
                                        LEGION_DISJOINT_COMPLETE_KIND, "rp_all_p");
  LogicalRegion rp_all_private = runtime->get_logical_subregion_by_color(ctx, rp_all_p, 0);
  LogicalRegion rp_all_ghost = runtime->get_logical_subregion_by_color(ctx, rp_all_p, 1);
  runtime->attach_name(rp_all_private, "rp_all_private");
  runtime->attach_name(rp_all_ghost, "rp_all_ghost");

  const Rect<1> pieces(0, n - 1);
  IndexSpace colors = runtime->create_index_space(ctx, pieces);
  std::map<DomainPoint, Domain> zone_blocks, side_blocks, private_blocks, shared_rows, ghost_rows;
  const long long row = mesh.row();
  for (long long k = 0; k < n; k++) {
    const DomainPoint color = DomainPoint(Point<1, coord_t>(k));
    const long long z0 = mesh.zrow[k] * c.nzx, z1 = mesh.zrow[k + 1] * c.nzx;
    zone_blocks[color] = Domain(Rect<1>(z0, z1 - 1));
    side_blocks[color] = Domain(Rect<1>(4 * z0, 4 * z1 - 1));
    private_blocks[color] = Domain(Rect<1>(mesh.before[k], mesh.before[k + 1] - 1));
    // boundary row b lies between strips b and b + 1; strip k owns row k
    shared_rows[color] = k < n - 1 ? Domain(Rect<1>(private_total + k * row,
                                                    private_total + (k + 1) * row - 1))
                                   : Domain(Rect<1>(private_total, private_total - 1));
    const long long first = std::max(0LL, k - 1), last = std::min(n - 2, k);
    ghost_rows[color] = last >= first ? Domain(Rect<1>(private_total + first * row,
                                                       private_total + (last + 1) * row - 1))
                                      : Domain(Rect<1>(private_total, private_total - 1));
  }
  LogicalPartition rz_all_p = by_domain(ctx, runtime, rz_all, colors, zone_blocks,
                                        LEGION_DISJOINT_COMPLETE_KIND, "rz_all_p");
  LogicalPartition rs_all_p = by_domain(ctx, runtime, rs_all, colors, side_blocks,
                                        LEGION_DISJOINT_COMPLETE_KIND, "rs_all_p");
  LogicalPartition rp_all_private_p =
      by_domain(ctx, runtime, rp_all_private, colors, private_blocks,
                LEGION_DISJOINT_COMPLETE_KIND, "rp_all_private_p");
  LogicalPartition rp_all_shared_p = by_domain(ctx, runtime, rp_all_ghost, colors, shared_rows,
                                               LEGION_DISJOINT_COMPLETE_KIND, "rp_all_shared_p");
  LogicalPartition rp_all_ghost_p = by_domain(ctx, runtime, rp_all_ghost, colors, ghost_rows,
                                              LEGION_ALIASED_COMPLETE_KIND, "rp_all_ghost_p");

  // Fields a task reads and writes (read-write) before any task has written them.
  for (FieldID f : {FID_ZXP, FID_ZUC}) runtime->fill_field<Vec2>(ctx, rz_all, rz_all, f, Vec2{0, 0});
  for (FieldID f : {FID_ZAREAP, FID_ZVOLP, FID_ZDL, FID_Z0TMP, FID_ZW})
    runtime->fill_field<double>(ctx, rz_all, rz_all, f, 0.0);
  runtime->fill_field<Vec2>(ctx, rs_all, rs_all, FID_EX, Vec2{0, 0});
  for (FieldID f : {FID_MAPSP1, FID_MAPSP2})
    runtime->fill_field<PointPtr>(ctx, rs_all, rs_all, f, PointPtr{-1, UNRESOLVED});

  // Region arguments as benchmarks/pennant.py lists them.
  auto Z = [&](std::vector<FieldID> ro, std::vector<FieldID> wo, std::vector<FieldID> rw) {
    return Argument{rz_all_p, rz_all, ro, wo, rw, {}};
  };
  auto S = [&](std::vector<FieldID> ro, std::vector<FieldID> wo, std::vector<FieldID> rw) {
    return Argument{rs_all_p, rs_all, ro, wo, rw, {}};
  };
  auto P = [&](std::vector<FieldID> ro, std::vector<FieldID> wo, std::vector<FieldID> rw) {
    return Argument{rp_all_private_p, rp_all, ro, wo, rw, {}};
  };
  auto G = [&](std::vector<FieldID> ro) { return Argument{rp_all_ghost_p, rp_all, ro, {}, {}, {}}; };
  auto SH = [&](std::vector<FieldID> ro, std::vector<FieldID> wo, std::vector<FieldID> rw) {
    return Argument{rp_all_shared_p, rp_all, ro, wo, rw, {}};
  };
  const Argument none_z = Z({}, {}, {}), none_p = P({}, {}, {}), none_g = G({});
  const std::vector<FieldID> maps = {FID_MAPSZ, FID_MAPSP1, FID_MAPSP2};
  auto with = [](std::vector<FieldID> a, std::initializer_list<FieldID> b) {
    a.insert(a.end(), b);
    return a;
  };

  const Domain launch_domain(pieces);
  auto index = [&](TaskID id, int group, const std::vector<Argument>& args,
                   const std::vector<Future>& futures, const void* data = nullptr,
                   size_t size = 0) {
    IndexTaskLauncher launcher(id, launch_domain, UntypedBuffer(data, size), ArgumentMap());
    launcher.map_arg = launch_group(group);
    for (const Argument& a : args) add_argument(launcher, a);
    for (const Future& f : futures) launcher.add_future(f);
    return launcher;
  };
  auto run = [&](TaskID id, int group, const std::vector<Argument>& args,
                 const std::vector<Future>& futures = {}, const void* data = nullptr,
                 size_t size = 0) {
    IndexTaskLauncher launcher = index(id, group, args, futures, data, size);
    runtime->execute_index_space(ctx, launcher);
  };
  /* A point task launched twice: over the private points (group 0), then the shared (1). */
  auto run_points = [&](TaskID id, std::vector<FieldID> ro, std::vector<FieldID> wo,
                        std::vector<FieldID> rw, const std::vector<Future>& futures = {}) {
    run(id, 0, {P(ro, wo, rw)}, futures);
    run(id, 1, {SH(ro, wo, rw)}, futures);
  };

  // ---- set-up (the model's order) ----
  run(INITIALIZE_TOPOLOGY_TASK, 0,
      {Z({}, {FID_ZNUMP}, {}), P({}, {FID_PX, FID_HAS_BCX, FID_HAS_BCY}, {}),
       SH({}, {FID_PX, FID_HAS_BCX, FID_HAS_BCY}, {}),
       S({}, {FID_MAPSZ, FID_MAPSS3, FID_MAPSS4}, {})},
      {}, &c, sizeof(c));
  run(INIT_POINTERS_TASK, 0, {none_p, none_g, S({}, {}, {FID_MAPSP1, FID_MAPSP2})}, {}, &c,
      sizeof(c));
  run(DUMMY_TASK, 0, {});
  run(INIT_MESH_ZONES_TASK, 0, {Z({}, {FID_ZX, FID_ZAREA, FID_ZVOL}, {})});
  const std::vector<Argument> centers_full = {Z({FID_ZNUMP}, {}, {FID_ZX}), P({FID_PX}, {}, {}),
                                              G({FID_PX}), S(maps, {}, {FID_EX})};
  const std::vector<Argument> volumes_full = {Z({FID_ZX, FID_ZNUMP}, {}, {FID_ZAREA, FID_ZVOL}),
                                              P({FID_PX}, {}, {}), G({FID_PX}),
                                              S(maps, {FID_SAREA}, {})};
  run(CALC_CENTERS_FULL_TASK, 0, centers_full);
  run(CALC_VOLUMES_FULL_TASK, 0, volumes_full);
  run(INIT_SIDE_FRACS_TASK, 0,
      {Z({FID_ZAREA}, {}, {}), none_p, none_g, S({FID_MAPSZ, FID_SAREA}, {FID_SMF}, {})});
  run(INIT_HYDRO_TASK, 0,
      {Z({FID_ZX, FID_ZVOL}, {FID_ZR, FID_ZE, FID_ZWRATE, FID_ZM, FID_ZETOT}, {})}, {}, &c,
      sizeof(c));
  run_points(INIT_RADIAL_VELOCITY_TASK, {FID_PX}, {FID_PU}, {});
  runtime->issue_execution_fence(ctx).wait();
  const double init_time = seconds_since_start();
  {
    OutputArgs out{init_time, 0.0, 0.0, 0, 0};
    single(OUTPUT1_TASK, &out, sizeof(out));
  }

  // ---- the cycle loop ----
  Future state = Future::from_value(State{0.0, 0.0, 0});
  Future dt_hydro = Future::from_value(1e99);
  const long long cycles = c.cycles();
  int64_t window_start = 0, window_stop = 0;
  long long cycle = 0;
  bool running = true;
  while (running && cycle < cycles) {
    if (cycle == c.prune) {
      runtime->issue_execution_fence(ctx).wait();
      window_start = now_ns();
    }
    runtime->begin_trace(ctx, 0);
    run_points(INIT_STEP_POINTS_TASK, {}, {FID_PMASWT, FID_PF}, {});
    run(INIT_STEP_ZONES_TASK, 0, {Z({FID_ZVOL}, {FID_ZVOL0}, {})});
    {
      TaskLauncher launcher(CALC_GLOBAL_DT_TASK, UntypedBuffer());
      launcher.map_arg = launch_group(0);
      launcher.add_future(state);
      launcher.add_future(dt_hydro);
      state = runtime->execute_task(ctx, launcher);
    }
    const std::vector<Future> dt = {state};
    run_points(ADV_POS_HALF_TASK, {FID_PX, FID_PU}, {FID_PX0, FID_PXP, FID_PU0}, {}, dt);
    run(CALC_CENTERS_TASK, 0,
        {Z({FID_ZNUMP}, {}, {FID_ZXP}), P({FID_PXP}, {}, {}), G({FID_PXP}),
         S(maps, {FID_EXP}, {})});
    run(CALC_VOLUMES_TASK, 0,
        {Z({FID_ZXP, FID_ZNUMP}, {}, {FID_ZAREAP, FID_ZVOLP}), P({FID_PXP}, {}, {}),
         G({FID_PXP}), S(maps, {FID_SAREAP, FID_ELEN}, {})});
    run(CALC_CHAR_LEN_TASK, 0,
        {Z({FID_ZNUMP}, {}, {FID_ZDL}), none_p, none_g,
         S({FID_MAPSZ, FID_SAREAP, FID_ELEN}, {}, {})});
    run(CALC_RHO_HALF_TASK, 0, {Z({FID_ZVOLP, FID_ZM}, {FID_ZRP}, {})});
    {
      Argument ghost_mass{rp_all_ghost_p, rp_all, {}, {}, {}, {FID_PMASWT},
                          LEGION_REDOP_SUM_FLOAT64};
      run(SUM_POINT_MASS_TASK, 0,
          {Z({FID_ZAREAP, FID_ZRP}, {}, {}), P({}, {}, {FID_PMASWT}), ghost_mass,
           S({FID_MAPSZ, FID_MAPSP1, FID_MAPSS3, FID_SMF}, {}, {})});
    }
    run(CALC_STATE_AT_HALF_TASK, 0,
        {Z({FID_ZVOL0, FID_ZVOLP, FID_ZM, FID_ZR, FID_ZE, FID_ZWRATE}, {FID_ZP, FID_ZSS}, {})},
        dt);
    run(CALC_FORCE_PGAS_TTS_TASK, 0,
        {Z({FID_ZXP, FID_ZAREAP, FID_ZRP, FID_ZSS, FID_ZP}, {}, {}), none_p, none_g,
         S({FID_MAPSZ, FID_SAREAP, FID_SMF, FID_EXP}, {FID_SFP, FID_SFT}, {})});
    run(QCS_ZONE_CENTER_VELOCITY_TASK, 0,
        {Z({FID_ZNUMP}, {}, {FID_ZUC}), P({FID_PU}, {}, {}), G({FID_PU}), S(maps, {}, {})});
    run(QCS_CORNER_DIVERGENCE_TASK, 0,
        {Z({FID_ZXP, FID_ZUC}, {}, {}), P({FID_PXP, FID_PU}, {}, {}), G({FID_PXP, FID_PU}),
         S(with(maps, {FID_EXP, FID_ELEN}), {FID_CAREA, FID_CCOS, FID_CDIV, FID_CEVOL, FID_CDU},
           {})});
    run(QCS_QCN_FORCE_TASK, 0,
        {Z({FID_ZRP, FID_ZSS}, {}, {}), P({FID_PU}, {}, {}), G({FID_PU}),
         S(with(maps, {FID_ELEN, FID_CDIV, FID_CDU, FID_CEVOL}), {FID_CQE1, FID_CQE2}, {})});
    run(QCS_FORCE_TASK, 0,
        {none_z, none_p, none_g,
         S({FID_MAPSS4, FID_ELEN, FID_CAREA, FID_CCOS, FID_CQE1, FID_CQE2}, {FID_SFQ}, {})});
    run(QCS_VEL_DIFF_TASK, 0,
        {Z({FID_ZSS}, {FID_ZDU}, {FID_Z0TMP}), P({FID_PXP, FID_PU}, {}, {}),
         G({FID_PXP, FID_PU}), S(with(maps, {FID_ELEN}), {}, {})});
    {
      Argument ghost_force{rp_all_ghost_p, rp_all, {}, {}, {}, {FID_PF}, REDOP_SUM_VEC2};
      run(SUM_POINT_FORCE_TASK, 0,
          {Z({FID_ZNUMP}, {}, {}), P({}, {}, {FID_PF}), ghost_force,
           S({FID_MAPSZ, FID_MAPSP1, FID_MAPSS3, FID_SFQ, FID_SFT}, {}, {})});
    }
    run_points(APPLY_BOUNDARY_CONDITIONS_TASK, {FID_HAS_BCX, FID_HAS_BCY}, {}, {FID_PU0, FID_PF});
    run_points(ADV_POS_FULL_TASK, {FID_PX0, FID_PU0, FID_PF, FID_PMASWT}, {FID_PX, FID_PU}, {},
               dt);
    run(CALC_CENTERS_FULL_TASK, 1, centers_full);
    run(CALC_VOLUMES_FULL_TASK, 1, volumes_full);
    run(CALC_WORK_TASK, 0,
        {Z({FID_ZNUMP}, {}, {FID_ZW, FID_ZETOT}), P({FID_PXP, FID_PU0, FID_PU}, {}, {}),
         G({FID_PXP, FID_PU0, FID_PU}), S(with(maps, {FID_SFP, FID_SFQ}), {}, {})},
        dt);
    run(CALC_WORK_RATE_ENERGY_RHO_FULL_TASK, 0,
        {Z({FID_ZVOL0, FID_ZVOL, FID_ZM, FID_ZW, FID_ZP, FID_ZETOT}, {FID_ZWRATE, FID_ZE, FID_ZR},
           {})},
        dt);
    {
      IndexTaskLauncher launcher =
          index(CALC_DT_HYDRO_TASK, 0, {Z({FID_ZDL, FID_ZVOL0, FID_ZVOL, FID_ZSS, FID_ZDU}, {}, {})},
                dt, &c.dump_cycle, sizeof(c.dump_cycle));
      dt_hydro = runtime->execute_index_space(ctx, launcher, LEGION_REDOP_MIN_FLOAT64);
    }
    Future go;
    {
      TaskLauncher launcher(CONTINUE_SIMULATION_TASK, UntypedBuffer(&cycles, sizeof(cycles)));
      launcher.map_arg = launch_group(0);
      launcher.add_future(state);
      go = runtime->execute_task(ctx, launcher);
    }
    runtime->end_trace(ctx, 0);
    cycle++;
    if (cycle == c.prune + c.cstop) {
      runtime->issue_execution_fence(ctx).wait();
      window_stop = now_ns();
    }
    running = go.get_result<bool>();
  }
  if (window_stop == 0) {  // the stop time came first: the window ends with the last cycle
    runtime->issue_execution_fence(ctx).wait();
    window_stop = now_ns();
    if (window_start == 0) window_start = window_stop;
  }
  OutputArgs out{0.0, init_time, (window_stop - window_start) * 1e-9, window_start, window_stop};
  single(OUTPUT5_TASK, &out, sizeof(out)).wait();
}

}  // namespace

void register_pennant() {
  Runtime::register_reduction_op<SumVec2>(REDOP_SUM_VEC2);
  top_level<toplevel_task>(TOPLEVEL_TASK, "toplevel");
  leaf_with_result<Config, read_partitions_task>(READ_PARTITIONS_TASK, "read_partitions");
  leaf<initialize_topology_task>(INITIALIZE_TOPOLOGY_TASK, "initialize_topology");
  leaf<init_pointers_task>(INIT_POINTERS_TASK, "init_pointers");
  leaf<dummy_task>(DUMMY_TASK, "dummy");
  leaf<init_mesh_zones_task>(INIT_MESH_ZONES_TASK, "init_mesh_zones");
  leaf<calc_centers_full_task>(CALC_CENTERS_FULL_TASK, "calc_centers_full");
  leaf<calc_volumes_full_task>(CALC_VOLUMES_FULL_TASK, "calc_volumes_full");
  leaf<init_side_fracs_task>(INIT_SIDE_FRACS_TASK, "init_side_fracs");
  leaf<init_hydro_task>(INIT_HYDRO_TASK, "init_hydro");
  leaf<init_radial_velocity_task>(INIT_RADIAL_VELOCITY_TASK, "init_radial_velocity");
  leaf<output0_task>(OUTPUT0_TASK, "output0");
  leaf<output1_task>(OUTPUT1_TASK, "output1");
  leaf<output5_task>(OUTPUT5_TASK, "output5");
  leaf<init_step_points_task>(INIT_STEP_POINTS_TASK, "init_step_points");
  leaf<init_step_zones_task>(INIT_STEP_ZONES_TASK, "init_step_zones");
  leaf_with_result<State, calc_global_dt_task>(CALC_GLOBAL_DT_TASK, "calc_global_dt");
  leaf<adv_pos_half_task>(ADV_POS_HALF_TASK, "adv_pos_half");
  leaf<calc_centers_task>(CALC_CENTERS_TASK, "calc_centers");
  leaf<calc_volumes_task>(CALC_VOLUMES_TASK, "calc_volumes");
  leaf<calc_char_len_task>(CALC_CHAR_LEN_TASK, "calc_char_len");
  leaf<calc_rho_half_task>(CALC_RHO_HALF_TASK, "calc_rho_half");
  leaf<sum_point_mass_task>(SUM_POINT_MASS_TASK, "sum_point_mass");
  leaf<calc_state_at_half_task>(CALC_STATE_AT_HALF_TASK, "calc_state_at_half");
  leaf<calc_force_pgas_tts_task>(CALC_FORCE_PGAS_TTS_TASK, "calc_force_pgas_tts");
  leaf<qcs_zone_center_velocity_task>(QCS_ZONE_CENTER_VELOCITY_TASK, "qcs_zone_center_velocity");
  leaf<qcs_corner_divergence_task>(QCS_CORNER_DIVERGENCE_TASK, "qcs_corner_divergence");
  leaf<qcs_qcn_force_task>(QCS_QCN_FORCE_TASK, "qcs_qcn_force");
  leaf<qcs_force_task>(QCS_FORCE_TASK, "qcs_force");
  leaf<qcs_vel_diff_task>(QCS_VEL_DIFF_TASK, "qcs_vel_diff");
  leaf<sum_point_force_task>(SUM_POINT_FORCE_TASK, "sum_point_force");
  leaf<apply_boundary_conditions_task>(APPLY_BOUNDARY_CONDITIONS_TASK,
                                       "apply_boundary_conditions");
  leaf<adv_pos_full_task>(ADV_POS_FULL_TASK, "adv_pos_full");
  leaf<calc_work_task>(CALC_WORK_TASK, "calc_work");
  leaf<calc_work_rate_energy_rho_full_task>(CALC_WORK_RATE_ENERGY_RHO_FULL_TASK,
                                            "calc_work_rate_energy_rho_full");
  leaf_with_result<double, calc_dt_hydro_task>(CALC_DT_HYDRO_TASK, "calc_dt_hydro");
  leaf_with_result<bool, continue_simulation_task>(CONTINUE_SIMULATION_TASK,
                                                   "continue_simulation");
}

}  // namespace apps
}  // namespace mapper_gym
