// GEMM for CPU adapters (lavapipe): every storage load there is scalarised per lane with a bounds check,
// costing far more than the arithmetic, so the kernel is built to load each value once per subgroup.
//
// A workgroup is one subgroup of LANES lanes (the adapter's smallest subgroup size, 4 or more); it computes an
// (8·RG) × (4·LANES) block of C, four k at a time. Lane l owns output columns 4l..4l+3 and loads their B
// values itself (no lane needs another's); A is loaded once per group of 8 rows as eight quads — quad q is
// four k of row q, or, for a transposed A, four rows at one k — spread over the lanes (two per lane with 4
// lanes; lanes past the eighth repeat the last), and every lane gets each row by subgroupBroadcast, a
// register shuffle.
// VEC4 (host-checked alignment) reads four elements per load, which lavapipe turns into one bounds check.
// K is a multiple of 4 here: the host runs the last K % 4 with the naive kernel, which keeps a second,
// masked copy of the unrolled arithmetic out of this one (LLVM compiles it in about half the time).
// Each step issues all its loads before any arithmetic: loads issued among the updates of 32 accumulator
// rows have their results spilled (measured: 32-row tiles 13–18 % faster this way).
enable subgroups;
#include "matmul-operands.wgsl"

#if VEC4
fn a4(e: u32) -> vec4<f32> { return load_a4(e); }
fn b4(e: u32) -> vec4<f32> { return load_b4(e); }
#else
// Element-wise reads are STRIDED (the host sets it with !VEC4), so TRANS_A and TRANS_B are off: a4 reads
// four consecutive k of a row of A, b4 four consecutive n of a row of B, whatever the stored layout.
fn a4(e: u32) -> vec4<f32> { return vec4<f32>(a[e], a[e + p.a_ks], a[e + 2u * p.a_ks], a[e + 3u * p.a_ks]); }
fn b4(e: u32) -> vec4<f32> {
  return vec4<f32>(load_b(e), load_b(e + p.b_ns), load_b(e + 2u * p.b_ns), load_b(e + 3u * p.b_ns));
}
#endif

const LANES: u32 = {{LANES}}u;
#if LANES_4
const QUADS: u32 = 2u;  // quads of A per lane and row group: 8 over 4 lanes
#else
const QUADS: u32 = 1u;
#endif

// Quad q (0..7) of the group of rows row0..row0+7 at k0..k0+3.
fn a_quad(base: u32, row0: u32, k0: u32, q: u32) -> vec4<f32> {
#if TRANS_A
  // Stored (K, M): rows row0 + 4·(q / 4) .. +3 at k0 + q % 4.
  return a4(base + a_at(row0 + 4u * (q >> 2u), k0 + (q & 3u)));
#else
  return a4(base + a_at(min(row0 + q, p.m - 1u), k0));
#endif
}

// What this lane loads of A for rows row0..row0+7 and k0..k0+3 (see rows_of).
fn a_chunk(base: u32, row0: u32, k0: u32, lane: u32) -> array<vec4<f32>, QUADS> {
#if LANES_4
  return array<vec4<f32>, QUADS>(a_quad(base, row0, k0, lane), a_quad(base, row0, k0, lane + 4u));
#elif LANES_WIDE
  return array<vec4<f32>, QUADS>(a_quad(base, row0, k0, min(lane, 7u)));
#else
  return array<vec4<f32>, QUADS>(a_quad(base, row0, k0, lane));
#endif
}

// The eight rows' k-vectors (A[row0 + r, k0..k0+3]) in every lane: quad q is in lane q % LANES, load q / LANES.
fn rows_of(v: array<vec4<f32>, QUADS>) -> array<vec4<f32>, 8> {
#if LANES_4
  let q = array<vec4<f32>, 8>(subgroupBroadcast(v[0], 0u), subgroupBroadcast(v[0], 1u), subgroupBroadcast(v[0], 2u),
                              subgroupBroadcast(v[0], 3u), subgroupBroadcast(v[1], 0u), subgroupBroadcast(v[1], 1u),
                              subgroupBroadcast(v[1], 2u), subgroupBroadcast(v[1], 3u));
#else
  let q = array<vec4<f32>, 8>(subgroupBroadcast(v[0], 0u), subgroupBroadcast(v[0], 1u), subgroupBroadcast(v[0], 2u),
                              subgroupBroadcast(v[0], 3u), subgroupBroadcast(v[0], 4u), subgroupBroadcast(v[0], 5u),
                              subgroupBroadcast(v[0], 6u), subgroupBroadcast(v[0], 7u));
#endif
#if TRANS_A
  let lo = transpose(mat4x4<f32>(q[0], q[1], q[2], q[3]));
  let hi = transpose(mat4x4<f32>(q[4], q[5], q[6], q[7]));
  return array<vec4<f32>, 8>(lo[0], lo[1], lo[2], lo[3], hi[0], hi[1], hi[2], hi[3]);
#else
  return q;
#endif
}

// B[k0 + kk, col0 .. col0+3] as column kk of a matrix.
fn b_chunk(base: u32, k0: u32, col0: u32) -> mat4x4<f32> {
#if TRANS_B
  // Stored (N, K): four k of each column, then transposed in registers.
  return transpose(mat4x4<f32>(b4(base + b_at(k0, col0)), b4(base + b_at(k0, col0 + 1u)),
                               b4(base + b_at(k0, col0 + 2u)), b4(base + b_at(k0, col0 + 3u))));
#else
  return mat4x4<f32>(b4(base + b_at(k0, col0)), b4(base + b_at(k0 + 1u, col0)),
                     b4(base + b_at(k0 + 2u, col0)), b4(base + b_at(k0 + 3u, col0)));
#endif
}

fn update(acc: ptr<function, array<vec4<f32>, 8>>, rows: array<vec4<f32>, 8>, bm: mat4x4<f32>) {
  for (var r = 0u; r < 8u; r++) { (*acc)[r] += bm * rows[r]; }
}

fn store_rows(acc: ptr<function, array<vec4<f32>, 8>>, base: u32, row0: u32, col0: u32) {
  for (var r = 0u; r < 8u; r++) {
    let row = row0 + r;
    if (row >= p.m) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (col0 + j < p.n) { store_c(base + row * p.c_ld + col0 + j, (*acc)[r][j]); }
    }
  }
}

// RG4: four groups of 8 rows (a 32 × 4·LANES tile), else one.
@compute @workgroup_size(LANES)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(subgroup_invocation_id) lane: u32) {
#if RG4
  let tile = tile_of(linear_workgroup(wid, nwg), 32u, 4u * LANES);
#else
  let tile = tile_of(linear_workgroup(wid, nwg), 8u, 4u * LANES);
#endif
  let row0 = tile.row;
  let col0 = tile.col + 4u * lane;
  var acc0: array<vec4<f32>, 8>;
#if RG4
  var acc1: array<vec4<f32>, 8>;
  var acc2: array<vec4<f32>, 8>;
  var acc3: array<vec4<f32>, 8>;
#endif
  // No early return for padding workgroups: control flow must stay uniform around subgroupBroadcast.
  for (var k0 = 0u; k0 < p.k; k0 += 4u) {
    let a0 = a_chunk(tile.batch_a, row0, k0, lane);
#if RG4
    let a1 = a_chunk(tile.batch_a, row0 + 8u, k0, lane);
    let a2 = a_chunk(tile.batch_a, row0 + 16u, k0, lane);
    let a3 = a_chunk(tile.batch_a, row0 + 24u, k0, lane);
#endif
    let bm = b_chunk(tile.batch_b, k0, col0);
    update(&acc0, rows_of(a0), bm);
#if RG4
    update(&acc1, rows_of(a1), bm);
    update(&acc2, rows_of(a2), bm);
    update(&acc3, rows_of(a3), bm);
#endif
  }
  if (!tile.valid) { return; }
  store_rows(&acc0, tile.batch_c, row0, col0);
#if RG4
  store_rows(&acc1, tile.batch_c, row0 + 8u, col0);
  store_rows(&acc2, tile.batch_c, row0 + 16u, col0);
  store_rows(&acc3, tile.batch_c, row0 + 24u, col0);
#endif
}
