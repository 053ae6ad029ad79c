;; The WebAssembly SIMD (f32x4) kernel of the s2r training core: matrix
;; products, bias helpers, activations and fused recurrent cells. Assembled
;; by scripts/build-wasm.mjs into build/nn-kernel.wasm; policies/nn/kernel/
;; js-kernel.ts is the TypeScript equivalent of every export (the fallback,
;; and the reference the tests compare against).
;;
;; The memory is imported: every arena (policies/nn/arena.ts) owns one
;; WebAssembly.Memory and its own instance of this module, and all parameters,
;; activations and gradients are Float32Array views into it, so a call passes
;; byte addresses and nothing is copied in or out.
;;
;; Matrix conventions: row-major; M, N, K are element counts; lda, ldb, ldc
;; are row strides in elements; `acc` = 0 overwrites C, 1 adds to it.
;;   gemm_nn: C[M,N] (+)= A[M,K]   . B[K,N]
;;   gemm_tn: C[M,N] (+)= A[K,M]^T . B[K,N]   (+ a 4 KiB scratch pointer)
;;   gemm_nt: C[M,N] (+)= A[M,K]   . B[N,K]^T
;; K must be >= 1 (the TypeScript side handles K = 0).
;;
;; Why this shape:
;; - NN and TN share one set of register-tiled micro-kernels that read A
;;   through two byte strides (sai between rows of the tile, sak between
;;   successive k), so the transposed operand costs no copy. The 4x8 tile keeps
;;   8 accumulators, 2 B vectors and 1 broadcast A value in registers (x86 has
;;   16 xmm registers); v128.load32_splat compiles to a single broadcast load.
;; - The k loop is blocked (KC) so that the slice of B a row-block sweeps over
;;   stays in L2 while all row-blocks of A pass over it; without it the TN
;;   product for weight gradients (K = batch rows, thousands) streams B from
;;   memory once per row-block.
;; - NT is a dot-product form: rows of A and rows of B are both contiguous in
;;   k, so a 2x4 tile of C accumulates along k in vector lanes and is reduced
;;   horizontally once per tile. It needs no scratch copy of B, which matters
;;   for small-batch inference where transposing B would cost as much as the
;;   product itself.
(module
  (import "env" "memory" (memory 1))

  ;; Rows of k consumed per pass over B; 256 rows of a 256-wide B are 256 KiB.
  (global $KC i32 (i32.const 256))

  ;; ---------------------------------------------------------------------
  ;; Micro-kernels for NN / TN. A element (r, k) of the tile is at
  ;; pa + r*sai + k*sak (bytes); B row k of the tile at pb + k*ldb (bytes);
  ;; C row r at pc + r*ldc (bytes).
  ;; ---------------------------------------------------------------------

  (func $k4x8 (param $K i32) (param $pa i32) (param $sai i32) (param $sak i32)
              (param $pb i32) (param $ldb i32) (param $pc i32) (param $ldc i32) (param $acc i32)
    (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $end i32)
    (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (local $x v128) (local $b0 v128) (local $b1 v128)
    (local $s00 v128) (local $s01 v128) (local $s10 v128) (local $s11 v128)
    (local $s20 v128) (local $s21 v128) (local $s30 v128) (local $s31 v128)
    (local.set $a1 (i32.add (local.get $pa) (local.get $sai)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $sai)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $sai)))
    (local.set $c1 (i32.add (local.get $pc) (local.get $ldc)))
    (local.set $c2 (i32.add (local.get $c1) (local.get $ldc)))
    (local.set $c3 (i32.add (local.get $c2) (local.get $ldc)))
    (if (local.get $acc) (then
      (local.set $s00 (v128.load align=4 (local.get $pc)))
      (local.set $s01 (v128.load offset=16 align=4 (local.get $pc)))
      (local.set $s10 (v128.load align=4 (local.get $c1)))
      (local.set $s11 (v128.load offset=16 align=4 (local.get $c1)))
      (local.set $s20 (v128.load align=4 (local.get $c2)))
      (local.set $s21 (v128.load offset=16 align=4 (local.get $c2)))
      (local.set $s30 (v128.load align=4 (local.get $c3)))
      (local.set $s31 (v128.load offset=16 align=4 (local.get $c3)))))
    (local.set $end (i32.add (local.get $pb) (i32.mul (local.get $K) (local.get $ldb))))
    (loop $k
      (local.set $b0 (v128.load align=4 (local.get $pb)))
      (local.set $b1 (v128.load offset=16 align=4 (local.get $pb)))
      (local.set $x (v128.load32_splat (local.get $pa)))
      (local.set $s00 (f32x4.add (local.get $s00) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $s01 (f32x4.add (local.get $s01) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load32_splat (local.get $a1)))
      (local.set $s10 (f32x4.add (local.get $s10) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $s11 (f32x4.add (local.get $s11) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load32_splat (local.get $a2)))
      (local.set $s20 (f32x4.add (local.get $s20) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $s21 (f32x4.add (local.get $s21) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load32_splat (local.get $a3)))
      (local.set $s30 (f32x4.add (local.get $s30) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $s31 (f32x4.add (local.get $s31) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $pa (i32.add (local.get $pa) (local.get $sak)))
      (local.set $a1 (i32.add (local.get $a1) (local.get $sak)))
      (local.set $a2 (i32.add (local.get $a2) (local.get $sak)))
      (local.set $a3 (i32.add (local.get $a3) (local.get $sak)))
      (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
      (br_if $k (i32.ne (local.get $pb) (local.get $end))))
    (v128.store align=4 (local.get $pc) (local.get $s00))
    (v128.store offset=16 align=4 (local.get $pc) (local.get $s01))
    (v128.store align=4 (local.get $c1) (local.get $s10))
    (v128.store offset=16 align=4 (local.get $c1) (local.get $s11))
    (v128.store align=4 (local.get $c2) (local.get $s20))
    (v128.store offset=16 align=4 (local.get $c2) (local.get $s21))
    (v128.store align=4 (local.get $c3) (local.get $s30))
    (v128.store offset=16 align=4 (local.get $c3) (local.get $s31)))

  (func $k4x4 (param $K i32) (param $pa i32) (param $sai i32) (param $sak i32)
              (param $pb i32) (param $ldb i32) (param $pc i32) (param $ldc i32) (param $acc i32)
    (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $end i32)
    (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (local $b0 v128) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local.set $a1 (i32.add (local.get $pa) (local.get $sai)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $sai)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $sai)))
    (local.set $c1 (i32.add (local.get $pc) (local.get $ldc)))
    (local.set $c2 (i32.add (local.get $c1) (local.get $ldc)))
    (local.set $c3 (i32.add (local.get $c2) (local.get $ldc)))
    (if (local.get $acc) (then
      (local.set $s0 (v128.load align=4 (local.get $pc)))
      (local.set $s1 (v128.load align=4 (local.get $c1)))
      (local.set $s2 (v128.load align=4 (local.get $c2)))
      (local.set $s3 (v128.load align=4 (local.get $c3)))))
    (local.set $end (i32.add (local.get $pb) (i32.mul (local.get $K) (local.get $ldb))))
    (loop $k
      (local.set $b0 (v128.load align=4 (local.get $pb)))
      (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (v128.load32_splat (local.get $pa)) (local.get $b0))))
      (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (v128.load32_splat (local.get $a1)) (local.get $b0))))
      (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (v128.load32_splat (local.get $a2)) (local.get $b0))))
      (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul (v128.load32_splat (local.get $a3)) (local.get $b0))))
      (local.set $pa (i32.add (local.get $pa) (local.get $sak)))
      (local.set $a1 (i32.add (local.get $a1) (local.get $sak)))
      (local.set $a2 (i32.add (local.get $a2) (local.get $sak)))
      (local.set $a3 (i32.add (local.get $a3) (local.get $sak)))
      (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
      (br_if $k (i32.ne (local.get $pb) (local.get $end))))
    (v128.store align=4 (local.get $pc) (local.get $s0))
    (v128.store align=4 (local.get $c1) (local.get $s1))
    (v128.store align=4 (local.get $c2) (local.get $s2))
    (v128.store align=4 (local.get $c3) (local.get $s3)))

  (func $k4x1 (param $K i32) (param $pa i32) (param $sai i32) (param $sak i32)
              (param $pb i32) (param $ldb i32) (param $pc i32) (param $ldc i32) (param $acc i32)
    (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $end i32)
    (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (local $b f32) (local $s0 f32) (local $s1 f32) (local $s2 f32) (local $s3 f32)
    (local.set $a1 (i32.add (local.get $pa) (local.get $sai)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $sai)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $sai)))
    (local.set $c1 (i32.add (local.get $pc) (local.get $ldc)))
    (local.set $c2 (i32.add (local.get $c1) (local.get $ldc)))
    (local.set $c3 (i32.add (local.get $c2) (local.get $ldc)))
    (if (local.get $acc) (then
      (local.set $s0 (f32.load (local.get $pc)))
      (local.set $s1 (f32.load (local.get $c1)))
      (local.set $s2 (f32.load (local.get $c2)))
      (local.set $s3 (f32.load (local.get $c3)))))
    (local.set $end (i32.add (local.get $pb) (i32.mul (local.get $K) (local.get $ldb))))
    (loop $k
      (local.set $b (f32.load (local.get $pb)))
      (local.set $s0 (f32.add (local.get $s0) (f32.mul (f32.load (local.get $pa)) (local.get $b))))
      (local.set $s1 (f32.add (local.get $s1) (f32.mul (f32.load (local.get $a1)) (local.get $b))))
      (local.set $s2 (f32.add (local.get $s2) (f32.mul (f32.load (local.get $a2)) (local.get $b))))
      (local.set $s3 (f32.add (local.get $s3) (f32.mul (f32.load (local.get $a3)) (local.get $b))))
      (local.set $pa (i32.add (local.get $pa) (local.get $sak)))
      (local.set $a1 (i32.add (local.get $a1) (local.get $sak)))
      (local.set $a2 (i32.add (local.get $a2) (local.get $sak)))
      (local.set $a3 (i32.add (local.get $a3) (local.get $sak)))
      (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
      (br_if $k (i32.ne (local.get $pb) (local.get $end))))
    (f32.store (local.get $pc) (local.get $s0))
    (f32.store (local.get $c1) (local.get $s1))
    (f32.store (local.get $c2) (local.get $s2))
    (f32.store (local.get $c3) (local.get $s3)))

  (func $k1x8 (param $K i32) (param $pa i32) (param $sak i32)
              (param $pb i32) (param $ldb i32) (param $pc i32) (param $acc i32)
    (local $end i32) (local $x v128) (local $s0 v128) (local $s1 v128)
    (if (local.get $acc) (then
      (local.set $s0 (v128.load align=4 (local.get $pc)))
      (local.set $s1 (v128.load offset=16 align=4 (local.get $pc)))))
    (local.set $end (i32.add (local.get $pb) (i32.mul (local.get $K) (local.get $ldb))))
    (loop $k
      (local.set $x (v128.load32_splat (local.get $pa)))
      (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (local.get $x) (v128.load align=4 (local.get $pb)))))
      (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (local.get $x) (v128.load offset=16 align=4 (local.get $pb)))))
      (local.set $pa (i32.add (local.get $pa) (local.get $sak)))
      (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
      (br_if $k (i32.ne (local.get $pb) (local.get $end))))
    (v128.store align=4 (local.get $pc) (local.get $s0))
    (v128.store offset=16 align=4 (local.get $pc) (local.get $s1)))

  (func $k1x4 (param $K i32) (param $pa i32) (param $sak i32)
              (param $pb i32) (param $ldb i32) (param $pc i32) (param $acc i32)
    (local $end i32) (local $s0 v128)
    (if (local.get $acc) (then (local.set $s0 (v128.load align=4 (local.get $pc)))))
    (local.set $end (i32.add (local.get $pb) (i32.mul (local.get $K) (local.get $ldb))))
    (loop $k
      (local.set $s0 (f32x4.add (local.get $s0)
        (f32x4.mul (v128.load32_splat (local.get $pa)) (v128.load align=4 (local.get $pb)))))
      (local.set $pa (i32.add (local.get $pa) (local.get $sak)))
      (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
      (br_if $k (i32.ne (local.get $pb) (local.get $end))))
    (v128.store align=4 (local.get $pc) (local.get $s0)))

  (func $k1x1 (param $K i32) (param $pa i32) (param $sak i32)
              (param $pb i32) (param $ldb i32) (param $pc i32) (param $acc i32)
    (local $end i32) (local $s f32)
    (if (local.get $acc) (then (local.set $s (f32.load (local.get $pc)))))
    (local.set $end (i32.add (local.get $pb) (i32.mul (local.get $K) (local.get $ldb))))
    (loop $k
      (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $pa)) (f32.load (local.get $pb)))))
      (local.set $pa (i32.add (local.get $pa) (local.get $sak)))
      (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
      (br_if $k (i32.ne (local.get $pb) (local.get $end))))
    (f32.store (local.get $pc) (local.get $s)))

  ;; C[M,N] (+)= A~[M,K] . B[K,N] with A~(i,k) at pa + i*sai + k*sak; all strides in bytes.
  ;; With pack != 0 (only when sai = 4, i.e. TN), each 4-row tile of A is first
  ;; copied to pack as [kc][4]: in A^T the tile's k-th values sit one row of A
  ;; apart, and with power-of-two row lengths those rows alias the same L1 sets
  ;; and are evicted before the next column block reuses them.
  (func $gemm_strided (param $M i32) (param $N i32) (param $K i32)
                      (param $pa i32) (param $sai i32) (param $sak i32)
                      (param $pb i32) (param $ldb i32) (param $pc i32) (param $ldc i32) (param $acc i32)
                      (param $pack i32)
    (local $ta i32) (local $tsai i32) (local $tsak i32) (local $src i32) (local $dst i32) (local $end i32)
    (local $k0 i32) (local $kc i32) (local $accf i32) (local $pak i32) (local $pbk i32)
    (local $i i32) (local $j i32) (local $ai i32) (local $ci i32) (local $sai4 i32) (local $ldc4 i32)
    ;; advances of A and C over a block of four rows
    (local.set $sai4 (i32.shl (local.get $sai) (i32.const 2)))
    (local.set $ldc4 (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $k0 (i32.const 0))
    (loop $kblock
      (local.set $kc (i32.sub (local.get $K) (local.get $k0)))
      (if (i32.gt_s (local.get $kc) (global.get $KC)) (then (local.set $kc (global.get $KC))))
      (local.set $accf (i32.or (local.get $acc) (i32.ne (local.get $k0) (i32.const 0))))
      (local.set $pak (i32.add (local.get $pa) (i32.mul (local.get $k0) (local.get $sak))))
      (local.set $pbk (i32.add (local.get $pb) (i32.mul (local.get $k0) (local.get $ldb))))
      ;; blocks of four rows
      (local.set $i (i32.const 0))
      (local.set $ai (local.get $pak))
      (local.set $ci (local.get $pc))
      (block $rows4done
        (loop $rows4
          (br_if $rows4done (i32.gt_s (i32.add (local.get $i) (i32.const 4)) (local.get $M)))
          (local.set $j (i32.const 0))
          (local.set $ta (local.get $ai))
          (local.set $tsai (local.get $sai))
          (local.set $tsak (local.get $sak))
          (if (local.get $pack) (then
            (local.set $src (local.get $ai))
            (local.set $dst (local.get $pack))
            (local.set $end (i32.add (local.get $pack) (i32.shl (local.get $kc) (i32.const 4))))
            (loop $copy
              (v128.store (local.get $dst) (v128.load align=4 (local.get $src)))
              (local.set $src (i32.add (local.get $src) (local.get $sak)))
              (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
              (br_if $copy (i32.ne (local.get $dst) (local.get $end))))
            (local.set $ta (local.get $pack))
            (local.set $tsai (i32.const 4))
            (local.set $tsak (i32.const 16))))
          (block $c8done
            (loop $c8
              (br_if $c8done (i32.gt_s (i32.add (local.get $j) (i32.const 8)) (local.get $N)))
              (call $k4x8 (local.get $kc) (local.get $ta) (local.get $tsai) (local.get $tsak)
                (i32.add (local.get $pbk) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb)
                (i32.add (local.get $ci) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldc) (local.get $accf))
              (local.set $j (i32.add (local.get $j) (i32.const 8)))
              (br $c8)))
          (if (i32.le_s (i32.add (local.get $j) (i32.const 4)) (local.get $N)) (then
            (call $k4x4 (local.get $kc) (local.get $ta) (local.get $tsai) (local.get $tsak)
              (i32.add (local.get $pbk) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb)
              (i32.add (local.get $ci) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldc) (local.get $accf))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))))
          (block $c1done
            (loop $c1
              (br_if $c1done (i32.ge_s (local.get $j) (local.get $N)))
              (call $k4x1 (local.get $kc) (local.get $ta) (local.get $tsai) (local.get $tsak)
                (i32.add (local.get $pbk) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb)
                (i32.add (local.get $ci) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldc) (local.get $accf))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $c1)))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (local.set $ai (i32.add (local.get $ai) (local.get $sai4)))
          (local.set $ci (i32.add (local.get $ci) (local.get $ldc4)))
          (br $rows4)))
      ;; remaining single rows
      (block $rows1done
        (loop $rows1
          (br_if $rows1done (i32.ge_s (local.get $i) (local.get $M)))
          (local.set $j (i32.const 0))
          (block $d8done
            (loop $d8
              (br_if $d8done (i32.gt_s (i32.add (local.get $j) (i32.const 8)) (local.get $N)))
              (call $k1x8 (local.get $kc) (local.get $ai) (local.get $sak)
                (i32.add (local.get $pbk) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb)
                (i32.add (local.get $ci) (i32.shl (local.get $j) (i32.const 2))) (local.get $accf))
              (local.set $j (i32.add (local.get $j) (i32.const 8)))
              (br $d8)))
          (if (i32.le_s (i32.add (local.get $j) (i32.const 4)) (local.get $N)) (then
            (call $k1x4 (local.get $kc) (local.get $ai) (local.get $sak)
              (i32.add (local.get $pbk) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb)
              (i32.add (local.get $ci) (i32.shl (local.get $j) (i32.const 2))) (local.get $accf))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))))
          (block $d1done
            (loop $d1
              (br_if $d1done (i32.ge_s (local.get $j) (local.get $N)))
              (call $k1x1 (local.get $kc) (local.get $ai) (local.get $sak)
                (i32.add (local.get $pbk) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb)
                (i32.add (local.get $ci) (i32.shl (local.get $j) (i32.const 2))) (local.get $accf))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $d1)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (local.set $ai (i32.add (local.get $ai) (local.get $sai)))
          (local.set $ci (i32.add (local.get $ci) (local.get $ldc)))
          (br $rows1)))
      (local.set $k0 (i32.add (local.get $k0) (local.get $kc)))
      (br_if $kblock (i32.lt_s (local.get $k0) (local.get $K)))))

  (func (export "gemm_nn") (param $M i32) (param $N i32) (param $K i32)
                           (param $pa i32) (param $lda i32) (param $pb i32) (param $ldb i32)
                           (param $pc i32) (param $ldc i32) (param $acc i32)
    (call $gemm_strided (local.get $M) (local.get $N) (local.get $K)
      (local.get $pa) (i32.shl (local.get $lda) (i32.const 2)) (i32.const 4)
      (local.get $pb) (i32.shl (local.get $ldb) (i32.const 2))
      (local.get $pc) (i32.shl (local.get $ldc) (i32.const 2)) (local.get $acc) (i32.const 0)))

  ;; pack: 4 KiB of scratch memory (KC rows of 16 bytes), 16-byte aligned.
  (func (export "gemm_tn") (param $M i32) (param $N i32) (param $K i32)
                           (param $pa i32) (param $lda i32) (param $pb i32) (param $ldb i32)
                           (param $pc i32) (param $ldc i32) (param $acc i32) (param $pack i32)
    (call $gemm_strided (local.get $M) (local.get $N) (local.get $K)
      (local.get $pa) (i32.const 4) (i32.shl (local.get $lda) (i32.const 2))
      (local.get $pb) (i32.shl (local.get $ldb) (i32.const 2))
      (local.get $pc) (i32.shl (local.get $ldc) (i32.const 2)) (local.get $acc) (local.get $pack)))

  ;; ---------------------------------------------------------------------
  ;; NT: dot-product form. Strides in bytes inside; rows of A and B are both
  ;; contiguous in k.
  ;; ---------------------------------------------------------------------

  ;; [sum(v0), sum(v1), sum(v2), sum(v3)] by a 4x4 transpose-and-add.
  (func $hsum4 (param $v0 v128) (param $v1 v128) (param $v2 v128) (param $v3 v128) (result v128)
    (local $u0 v128) (local $u1 v128)
    (local.set $u0 (f32x4.add
      (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v0) (local.get $v1))
      (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v0) (local.get $v1))))
    (local.set $u1 (f32x4.add
      (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v2) (local.get $v3))
      (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v2) (local.get $v3))))
    (f32x4.add
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $u0) (local.get $u1))
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $u0) (local.get $u1))))

  ;; Four B values of one k, one from each of four rows ldb bytes apart.
  (func $gather4 (param $p i32) (param $ldb i32) (result v128)
    (f32x4.replace_lane 3
      (f32x4.replace_lane 2
        (f32x4.replace_lane 1
          (v128.load32_zero (local.get $p))
          (f32.load (i32.add (local.get $p) (local.get $ldb))))
        (f32.load (i32.add (local.get $p) (i32.shl (local.get $ldb) (i32.const 1)))))
      (f32.load (i32.add (local.get $p) (i32.mul (local.get $ldb) (i32.const 3))))))

  ;; C[2 rows, 4 cols] (+)= A[2 rows, K] . B[4 rows, K]^T
  (func $nt2x4 (param $K i32) (param $pa i32) (param $lda i32) (param $pb i32) (param $ldb i32)
               (param $pc i32) (param $ldc i32) (param $acc i32)
    (local $a1 i32) (local $b1 i32) (local $b2 i32) (local $b3 i32) (local $end i32) (local $tail i32)
    (local $x0 v128) (local $x1 v128) (local $y v128)
    (local $s00 v128) (local $s01 v128) (local $s02 v128) (local $s03 v128)
    (local $s10 v128) (local $s11 v128) (local $s12 v128) (local $s13 v128)
    (local.set $a1 (i32.add (local.get $pa) (local.get $lda)))
    (local.set $b1 (i32.add (local.get $pb) (local.get $ldb)))
    (local.set $b2 (i32.add (local.get $b1) (local.get $ldb)))
    (local.set $b3 (i32.add (local.get $b2) (local.get $ldb)))
    (local.set $end (i32.add (local.get $pa) (i32.shl (i32.and (local.get $K) (i32.const -4)) (i32.const 2))))
    (if (i32.ne (local.get $pa) (local.get $end)) (then
      (loop $k
        (local.set $x0 (v128.load align=4 (local.get $pa)))
        (local.set $x1 (v128.load align=4 (local.get $a1)))
        (local.set $y (v128.load align=4 (local.get $pb)))
        (local.set $s00 (f32x4.add (local.get $s00) (f32x4.mul (local.get $x0) (local.get $y))))
        (local.set $s10 (f32x4.add (local.get $s10) (f32x4.mul (local.get $x1) (local.get $y))))
        (local.set $y (v128.load align=4 (local.get $b1)))
        (local.set $s01 (f32x4.add (local.get $s01) (f32x4.mul (local.get $x0) (local.get $y))))
        (local.set $s11 (f32x4.add (local.get $s11) (f32x4.mul (local.get $x1) (local.get $y))))
        (local.set $y (v128.load align=4 (local.get $b2)))
        (local.set $s02 (f32x4.add (local.get $s02) (f32x4.mul (local.get $x0) (local.get $y))))
        (local.set $s12 (f32x4.add (local.get $s12) (f32x4.mul (local.get $x1) (local.get $y))))
        (local.set $y (v128.load align=4 (local.get $b3)))
        (local.set $s03 (f32x4.add (local.get $s03) (f32x4.mul (local.get $x0) (local.get $y))))
        (local.set $s13 (f32x4.add (local.get $s13) (f32x4.mul (local.get $x1) (local.get $y))))
        (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
        (local.set $a1 (i32.add (local.get $a1) (i32.const 16)))
        (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
        (local.set $b1 (i32.add (local.get $b1) (i32.const 16)))
        (local.set $b2 (i32.add (local.get $b2) (i32.const 16)))
        (local.set $b3 (i32.add (local.get $b3) (i32.const 16)))
        (br_if $k (i32.ne (local.get $pa) (local.get $end))))))
    (local.set $s00 (call $hsum4 (local.get $s00) (local.get $s01) (local.get $s02) (local.get $s03)))
    (local.set $s10 (call $hsum4 (local.get $s10) (local.get $s11) (local.get $s12) (local.get $s13)))
    ;; the K mod 4 remaining k, one at a time
    (local.set $tail (i32.and (local.get $K) (i32.const 3)))
    (block $done
      (loop $t
        (br_if $done (i32.eqz (local.get $tail)))
        (local.set $y (call $gather4 (local.get $pb) (local.get $ldb)))
        (local.set $s00 (f32x4.add (local.get $s00) (f32x4.mul (v128.load32_splat (local.get $pa)) (local.get $y))))
        (local.set $s10 (f32x4.add (local.get $s10) (f32x4.mul (v128.load32_splat (local.get $a1)) (local.get $y))))
        (local.set $pa (i32.add (local.get $pa) (i32.const 4)))
        (local.set $a1 (i32.add (local.get $a1) (i32.const 4)))
        (local.set $pb (i32.add (local.get $pb) (i32.const 4)))
        (local.set $tail (i32.sub (local.get $tail) (i32.const 1)))
        (br $t)))
    (if (local.get $acc) (then
      (local.set $s00 (f32x4.add (local.get $s00) (v128.load align=4 (local.get $pc))))
      (local.set $s10 (f32x4.add (local.get $s10) (v128.load align=4 (i32.add (local.get $pc) (local.get $ldc)))))))
    (v128.store align=4 (local.get $pc) (local.get $s00))
    (v128.store align=4 (i32.add (local.get $pc) (local.get $ldc)) (local.get $s10)))

  ;; C[1 row, 4 cols] (+)= A[1 row, K] . B[4 rows, K]^T
  (func $nt1x4 (param $K i32) (param $pa i32) (param $pb i32) (param $ldb i32) (param $pc i32) (param $acc i32)
    (local $b1 i32) (local $b2 i32) (local $b3 i32) (local $end i32) (local $tail i32)
    (local $x0 v128) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local.set $b1 (i32.add (local.get $pb) (local.get $ldb)))
    (local.set $b2 (i32.add (local.get $b1) (local.get $ldb)))
    (local.set $b3 (i32.add (local.get $b2) (local.get $ldb)))
    (local.set $end (i32.add (local.get $pa) (i32.shl (i32.and (local.get $K) (i32.const -4)) (i32.const 2))))
    (if (i32.ne (local.get $pa) (local.get $end)) (then
      (loop $k
        (local.set $x0 (v128.load align=4 (local.get $pa)))
        (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (local.get $x0) (v128.load align=4 (local.get $pb)))))
        (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (local.get $x0) (v128.load align=4 (local.get $b1)))))
        (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (local.get $x0) (v128.load align=4 (local.get $b2)))))
        (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul (local.get $x0) (v128.load align=4 (local.get $b3)))))
        (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
        (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
        (local.set $b1 (i32.add (local.get $b1) (i32.const 16)))
        (local.set $b2 (i32.add (local.get $b2) (i32.const 16)))
        (local.set $b3 (i32.add (local.get $b3) (i32.const 16)))
        (br_if $k (i32.ne (local.get $pa) (local.get $end))))))
    (local.set $s0 (call $hsum4 (local.get $s0) (local.get $s1) (local.get $s2) (local.get $s3)))
    (local.set $tail (i32.and (local.get $K) (i32.const 3)))
    (block $done
      (loop $t
        (br_if $done (i32.eqz (local.get $tail)))
        (local.set $s0 (f32x4.add (local.get $s0)
          (f32x4.mul (v128.load32_splat (local.get $pa)) (call $gather4 (local.get $pb) (local.get $ldb)))))
        (local.set $pa (i32.add (local.get $pa) (i32.const 4)))
        (local.set $pb (i32.add (local.get $pb) (i32.const 4)))
        (local.set $tail (i32.sub (local.get $tail) (i32.const 1)))
        (br $t)))
    (if (local.get $acc) (then
      (local.set $s0 (f32x4.add (local.get $s0) (v128.load align=4 (local.get $pc))))))
    (v128.store align=4 (local.get $pc) (local.get $s0)))

  ;; One element: (+)= A row . B row over K.
  (func $dot1 (param $K i32) (param $pa i32) (param $pb i32) (param $pc i32) (param $acc i32)
    (local $end i32) (local $s v128) (local $r f32)
    (local.set $end (i32.add (local.get $pa) (i32.shl (i32.and (local.get $K) (i32.const -4)) (i32.const 2))))
    (if (i32.ne (local.get $pa) (local.get $end)) (then
      (loop $k
        (local.set $s (f32x4.add (local.get $s)
          (f32x4.mul (v128.load align=4 (local.get $pa)) (v128.load align=4 (local.get $pb)))))
        (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
        (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
        (br_if $k (i32.ne (local.get $pa) (local.get $end))))))
    (local.set $r (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $s)) (f32x4.extract_lane 1 (local.get $s)))
      (f32.add (f32x4.extract_lane 2 (local.get $s)) (f32x4.extract_lane 3 (local.get $s)))))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $K) (i32.const 3)) (i32.const 2))))
    (block $done
      (loop $t
        (br_if $done (i32.eq (local.get $pa) (local.get $end)))
        (local.set $r (f32.add (local.get $r) (f32.mul (f32.load (local.get $pa)) (f32.load (local.get $pb)))))
        (local.set $pa (i32.add (local.get $pa) (i32.const 4)))
        (local.set $pb (i32.add (local.get $pb) (i32.const 4)))
        (br $t)))
    (if (local.get $acc) (then (local.set $r (f32.add (local.get $r) (f32.load (local.get $pc))))))
    (f32.store (local.get $pc) (local.get $r)))

  (func (export "gemm_nt") (param $M i32) (param $N i32) (param $K i32)
                           (param $pa i32) (param $lda i32) (param $pb i32) (param $ldb i32)
                           (param $pc i32) (param $ldc i32) (param $acc i32)
    (local $i i32) (local $j i32) (local $ai i32) (local $ci i32) (local $bj i32) (local $cij i32)
    (local.set $lda (i32.shl (local.get $lda) (i32.const 2)))
    (local.set $ldb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $ai (local.get $pa))
    (local.set $ci (local.get $pc))
    (block $rows2done
      (loop $rows2
        (br_if $rows2done (i32.gt_s (i32.add (local.get $i) (i32.const 2)) (local.get $M)))
        (local.set $j (i32.const 0))
        (local.set $bj (local.get $pb))
        (local.set $cij (local.get $ci))
        (block $c4done
          (loop $c4
            (br_if $c4done (i32.gt_s (i32.add (local.get $j) (i32.const 4)) (local.get $N)))
            (call $nt2x4 (local.get $K) (local.get $ai) (local.get $lda) (local.get $bj) (local.get $ldb)
              (local.get $cij) (local.get $ldc) (local.get $acc))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (local.set $bj (i32.add (local.get $bj) (i32.shl (local.get $ldb) (i32.const 2))))
            (local.set $cij (i32.add (local.get $cij) (i32.const 16)))
            (br $c4)))
        (block $c1done
          (loop $c1
            (br_if $c1done (i32.ge_s (local.get $j) (local.get $N)))
            (call $dot1 (local.get $K) (local.get $ai) (local.get $bj) (local.get $cij) (local.get $acc))
            (call $dot1 (local.get $K) (i32.add (local.get $ai) (local.get $lda)) (local.get $bj)
              (i32.add (local.get $cij) (local.get $ldc)) (local.get $acc))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (local.set $bj (i32.add (local.get $bj) (local.get $ldb)))
            (local.set $cij (i32.add (local.get $cij) (i32.const 4)))
            (br $c1)))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (local.set $ai (i32.add (local.get $ai) (i32.shl (local.get $lda) (i32.const 1))))
        (local.set $ci (i32.add (local.get $ci) (i32.shl (local.get $ldc) (i32.const 1))))
        (br $rows2)))
    (if (i32.lt_s (local.get $i) (local.get $M)) (then
      (local.set $j (i32.const 0))
      (local.set $bj (local.get $pb))
      (local.set $cij (local.get $ci))
      (block $e4done
        (loop $e4
          (br_if $e4done (i32.gt_s (i32.add (local.get $j) (i32.const 4)) (local.get $N)))
          (call $nt1x4 (local.get $K) (local.get $ai) (local.get $bj) (local.get $ldb) (local.get $cij) (local.get $acc))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (local.set $bj (i32.add (local.get $bj) (i32.shl (local.get $ldb) (i32.const 2))))
          (local.set $cij (i32.add (local.get $cij) (i32.const 16)))
          (br $e4)))
      (block $e1done
        (loop $e1
          (br_if $e1done (i32.ge_s (local.get $j) (local.get $N)))
          (call $dot1 (local.get $K) (local.get $ai) (local.get $bj) (local.get $cij) (local.get $acc))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (local.set $bj (i32.add (local.get $bj) (local.get $ldb)))
          (local.set $cij (i32.add (local.get $cij) (i32.const 4)))
          (br $e1))))))

  ;; ---------------------------------------------------------------------
  ;; Bias helpers for linear layers (element strides, as the exports above).
  ;; ---------------------------------------------------------------------

  ;; C[i, 0..N) = v[0..N) for every row i < M: the bias broadcast a forward
  ;; pass starts from before accumulating x . W^T into it.
  (func (export "fill_rows") (param $pc i32) (param $M i32) (param $N i32) (param $ldc i32) (param $pv i32)
    (local $i i32) (local $j i32) (local $n4 i32)
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $n4 (i32.and (local.get $N) (i32.const -4)))
    (block $rowsdone
      (loop $rows
        (br_if $rowsdone (i32.ge_s (local.get $i) (local.get $M)))
        (local.set $j (i32.const 0))
        (block $v4done
          (loop $v4
            (br_if $v4done (i32.ge_s (local.get $j) (local.get $n4)))
            (v128.store align=4 (i32.add (local.get $pc) (i32.shl (local.get $j) (i32.const 2)))
              (v128.load align=4 (i32.add (local.get $pv) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $v4)))
        (block $v1done
          (loop $v1
            (br_if $v1done (i32.ge_s (local.get $j) (local.get $N)))
            (f32.store (i32.add (local.get $pc) (i32.shl (local.get $j) (i32.const 2)))
              (f32.load (i32.add (local.get $pv) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $v1)))
        (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; out[0..N) += sum over rows i < M of A[i, 0..N): the bias gradient.
  (func (export "add_col_sums") (param $pa i32) (param $M i32) (param $N i32) (param $lda i32) (param $pout i32)
    (local $i i32) (local $j i32) (local $n4 i32) (local $p i32)
    (local.set $lda (i32.shl (local.get $lda) (i32.const 2)))
    (local.set $n4 (i32.and (local.get $N) (i32.const -4)))
    (block $rowsdone
      (loop $rows
        (br_if $rowsdone (i32.ge_s (local.get $i) (local.get $M)))
        (local.set $j (i32.const 0))
        (block $v4done
          (loop $v4
            (br_if $v4done (i32.ge_s (local.get $j) (local.get $n4)))
            (local.set $p (i32.add (local.get $pout) (i32.shl (local.get $j) (i32.const 2))))
            (v128.store align=4 (local.get $p)
              (f32x4.add (v128.load align=4 (local.get $p))
                (v128.load align=4 (i32.add (local.get $pa) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $v4)))
        (block $v1done
          (loop $v1
            (br_if $v1done (i32.ge_s (local.get $j) (local.get $N)))
            (local.set $p (i32.add (local.get $pout) (i32.shl (local.get $j) (i32.const 2))))
            (f32.store (local.get $p)
              (f32.add (f32.load (local.get $p))
                (f32.load (i32.add (local.get $pa) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $v1)))
        (local.set $pa (i32.add (local.get $pa) (local.get $lda)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; ---------------------------------------------------------------------
  ;; Element-wise math. exp, sigmoid and tanh of four lanes at once; the
  ;; scalar Math.exp / Math.tanh cost 5-15 ns each and dominated the
  ;; recurrent layers. Accuracy is that of Cephes' single-precision
  ;; routines (a few ulp), far below what training notices.
  ;; ---------------------------------------------------------------------

  ;; exp(x) = 2^n exp(r), n = round(x / ln 2), |r| <= ln2 / 2, exp(r) by a
  ;; degree-6 polynomial. x is clamped to [-87, 88] so that 2^n stays a
  ;; normal float (n in [-126, 127]).
  (func $exp4 (param $x v128) (result v128)
    (local $n v128) (local $r v128) (local $p v128)
    (local.set $x (f32x4.max (f32x4.min (local.get $x) (v128.const f32x4 88 88 88 88))
                             (v128.const f32x4 -87 -87 -87 -87)))
    (local.set $n (f32x4.nearest (f32x4.mul (local.get $x)
      (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))))
    ;; r = x - n ln2, with ln2 split in two so the product is exact
    (local.set $r (f32x4.sub (local.get $x) (f32x4.mul (local.get $n) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))))
    (local.set $r (f32x4.sub (local.get $r) (f32x4.mul (local.get $n) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $p (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    (local.set $p (f32x4.add
      (f32x4.add (f32x4.mul (local.get $p) (f32x4.mul (local.get $r) (local.get $r))) (local.get $r))
      (v128.const f32x4 1 1 1 1)))
    ;; 2^n built from its exponent bits
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (v128.const i32x4 127 127 127 127)) (i32.const 23))))

  (func $sigmoid4 (param $x v128) (result v128)
    (f32x4.div (v128.const f32x4 1 1 1 1)
      (f32x4.add (v128.const f32x4 1 1 1 1) (call $exp4 (f32x4.neg (local.get $x))))))

  ;; tanh: an odd polynomial for |x| < 0.625 (where 1 - 2/(e^2x + 1) would
  ;; lose relative precision), else 1 - 2/(e^2|x| + 1) with the sign of x.
  (func $tanh4 (param $x v128) (result v128)
    (local $ax v128) (local $z v128) (local $small v128) (local $large v128)
    (local.set $ax (f32x4.abs (local.get $x)))
    (local.set $z (f32x4.mul (local.get $x) (local.get $x)))
    (local.set $small (v128.const f32x4 -5.70498872745e-3 -5.70498872745e-3 -5.70498872745e-3 -5.70498872745e-3))
    (local.set $small (f32x4.add (f32x4.mul (local.get $small) (local.get $z)) (v128.const f32x4 2.06390887954e-2 2.06390887954e-2 2.06390887954e-2 2.06390887954e-2)))
    (local.set $small (f32x4.add (f32x4.mul (local.get $small) (local.get $z)) (v128.const f32x4 -5.37397155531e-2 -5.37397155531e-2 -5.37397155531e-2 -5.37397155531e-2)))
    (local.set $small (f32x4.add (f32x4.mul (local.get $small) (local.get $z)) (v128.const f32x4 1.33314422036e-1 1.33314422036e-1 1.33314422036e-1 1.33314422036e-1)))
    (local.set $small (f32x4.add (f32x4.mul (local.get $small) (local.get $z)) (v128.const f32x4 -3.33332819422e-1 -3.33332819422e-1 -3.33332819422e-1 -3.33332819422e-1)))
    (local.set $small (f32x4.add (f32x4.mul (f32x4.mul (local.get $small) (local.get $z)) (local.get $x)) (local.get $x)))
    (local.set $large (f32x4.sub (v128.const f32x4 1 1 1 1)
      (f32x4.div (v128.const f32x4 2 2 2 2)
        (f32x4.add (call $exp4 (f32x4.add (local.get $ax) (local.get $ax))) (v128.const f32x4 1 1 1 1)))))
    (local.set $large (v128.or (local.get $large)
      (v128.and (local.get $x) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))))
    (v128.bitselect (local.get $small) (local.get $large) (f32x4.lt (local.get $ax) (v128.const f32x4 0.625 0.625 0.625 0.625))))

  ;; ELU (alpha 1): x for x > 0, else e^x - 1, by its Taylor series near 0
  ;; (|x| < 0.5, where e^x - 1 would cancel) and through exp beyond.
  (func $elu4 (param $x v128) (result v128)
    (local $p v128) (local $neg v128)
    (local.set $p (v128.const f32x4 1.98412698e-4 1.98412698e-4 1.98412698e-4 1.98412698e-4))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $x)) (v128.const f32x4 1.38888889e-3 1.38888889e-3 1.38888889e-3 1.38888889e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $x)) (v128.const f32x4 8.33333333e-3 8.33333333e-3 8.33333333e-3 8.33333333e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $x)) (v128.const f32x4 4.16666667e-2 4.16666667e-2 4.16666667e-2 4.16666667e-2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $x)) (v128.const f32x4 1.66666667e-1 1.66666667e-1 1.66666667e-1 1.66666667e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $x)) (v128.const f32x4 0.5 0.5 0.5 0.5)))
    (local.set $p (f32x4.add (f32x4.mul (f32x4.mul (local.get $p) (local.get $x)) (local.get $x)) (local.get $x)))
    (local.set $neg (v128.bitselect (local.get $p)
      (f32x4.sub (call $exp4 (local.get $x)) (v128.const f32x4 1 1 1 1))
      (f32x4.gt (local.get $x) (v128.const f32x4 -0.5 -0.5 -0.5 -0.5))))
    (v128.bitselect (local.get $x) (local.get $neg) (f32x4.gt (local.get $x) (v128.const f32x4 0 0 0 0))))

  ;; y[i] = f(x[i]) for i < n; `which` 0 = tanh, 1 = elu, 2 = sigmoid. The
  ;; n mod 4 tail goes through the same vector code on a zero-padded copy.
  (func $apply4 (param $which i32) (param $x v128) (result v128)
    (if (result v128) (i32.eqz (local.get $which))
      (then (call $tanh4 (local.get $x)))
      (else (if (result v128) (i32.eq (local.get $which) (i32.const 1))
        (then (call $elu4 (local.get $x)))
        (else (call $sigmoid4 (local.get $x)))))))

  (func $map (param $which i32) (param $px i32) (param $py i32) (param $n i32)
    (local $end i32) (local $v v128)
    (local.set $end (i32.add (local.get $px) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $px) (local.get $end)))
        (v128.store align=4 (local.get $py) (call $apply4 (local.get $which) (v128.load align=4 (local.get $px))))
        (local.set $px (i32.add (local.get $px) (i32.const 16)))
        (local.set $py (i32.add (local.get $py) (i32.const 16)))
        (br $l)))
    (local.set $n (i32.and (local.get $n) (i32.const 3)))
    (block $tdone
      (loop $t
        (br_if $tdone (i32.eqz (local.get $n)))
        (local.set $v (call $apply4 (local.get $which) (v128.load32_splat (local.get $px))))
        (f32.store (local.get $py) (f32x4.extract_lane 0 (local.get $v)))
        (local.set $px (i32.add (local.get $px) (i32.const 4)))
        (local.set $py (i32.add (local.get $py) (i32.const 4)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $t))))

  (func (export "tanh") (param $px i32) (param $py i32) (param $n i32)
    (call $map (i32.const 0) (local.get $px) (local.get $py) (local.get $n)))
  (func (export "elu") (param $px i32) (param $py i32) (param $n i32)
    (call $map (i32.const 1) (local.get $px) (local.get $py) (local.get $n)))
  (func (export "sigmoid") (param $px i32) (param $py i32) (param $n i32)
    (call $map (i32.const 2) (local.get $px) (local.get $py) (local.get $n)))

  ;; ---------------------------------------------------------------------
  ;; Fused recurrent cells: the gate math of one time step for `batch`
  ;; rows, after the matrix products have produced the pre-activations.
  ;; H must be a multiple of 4 (the TypeScript side routes other sizes to
  ;; its own loops). Pointers are bytes, each at the first row of the step.
  ;; ---------------------------------------------------------------------

  ;; GRU (gate order r, z, n; gi and gh rows are [r | z | n], 3H wide):
  ;;   r = s(gi_r + gh_r), z = s(gi_z + gh_z), n = tanh(gi_n + r gh_n),
  ;;   h = (1 - z) n + z h_prev.
  ;; With keep != 0, r, z, n and gh_n are stored for backward ([batch, H] each).
  (func (export "gru_cell") (param $batch i32) (param $H i32)
        (param $pgi i32) (param $pgh i32) (param $php i32) (param $pout i32)
        (param $pr i32) (param $pz i32) (param $pn i32) (param $pghn i32) (param $keep i32)
    (local $h4 i32) (local $j i32) (local $b i32)
    (local $r v128) (local $z v128) (local $n v128) (local $hn v128) (local $hp v128)
    (local.set $h4 (i32.shl (local.get $H) (i32.const 2)))
    (block $rowsdone
      (loop $rows
        (br_if $rowsdone (i32.ge_s (local.get $b) (local.get $batch)))
        (local.set $j (i32.const 0))
        (loop $cols
          (local.set $r (call $sigmoid4 (f32x4.add
            (v128.load align=4 (i32.add (local.get $pgi) (local.get $j)))
            (v128.load align=4 (i32.add (local.get $pgh) (local.get $j))))))
          (local.set $z (call $sigmoid4 (f32x4.add
            (v128.load align=4 (i32.add (i32.add (local.get $pgi) (local.get $h4)) (local.get $j)))
            (v128.load align=4 (i32.add (i32.add (local.get $pgh) (local.get $h4)) (local.get $j))))))
          (local.set $hn (v128.load align=4 (i32.add (i32.add (local.get $pgh) (i32.shl (local.get $h4) (i32.const 1))) (local.get $j))))
          (local.set $n (call $tanh4 (f32x4.add
            (v128.load align=4 (i32.add (i32.add (local.get $pgi) (i32.shl (local.get $h4) (i32.const 1))) (local.get $j)))
            (f32x4.mul (local.get $r) (local.get $hn)))))
          (local.set $hp (v128.load align=4 (i32.add (local.get $php) (local.get $j))))
          (v128.store align=4 (i32.add (local.get $pout) (local.get $j))
            (f32x4.add (local.get $n) (f32x4.mul (local.get $z) (f32x4.sub (local.get $hp) (local.get $n)))))
          (if (local.get $keep) (then
            (v128.store align=4 (i32.add (local.get $pr) (local.get $j)) (local.get $r))
            (v128.store align=4 (i32.add (local.get $pz) (local.get $j)) (local.get $z))
            (v128.store align=4 (i32.add (local.get $pn) (local.get $j)) (local.get $n))
            (v128.store align=4 (i32.add (local.get $pghn) (local.get $j)) (local.get $hn))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br_if $cols (i32.lt_s (local.get $j) (local.get $h4))))
        (local.set $pgi (i32.add (local.get $pgi) (i32.mul (local.get $h4) (i32.const 3))))
        (local.set $pgh (i32.add (local.get $pgh) (i32.mul (local.get $h4) (i32.const 3))))
        (local.set $php (i32.add (local.get $php) (local.get $h4)))
        (local.set $pout (i32.add (local.get $pout) (local.get $h4)))
        (local.set $pr (i32.add (local.get $pr) (local.get $h4)))
        (local.set $pz (i32.add (local.get $pz) (local.get $h4)))
        (local.set $pn (i32.add (local.get $pn) (local.get $h4)))
        (local.set $pghn (i32.add (local.get $pghn) (local.get $h4)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $rows))))

  ;; LSTM (gate order i, f, g, o; gi and gh rows 4H wide):
  ;;   c = s(f) c_prev + s(i) tanh(g), h = s(o) tanh(c).
  ;; Writes c to pcc and h to pout; with keep != 0 also the activated gates
  ;; ([batch, 4H] at pgates) and tanh(c) ([batch, H] at ptc).
  (func (export "lstm_cell") (param $batch i32) (param $H i32)
        (param $pgi i32) (param $pgh i32) (param $pcp i32) (param $pcc i32) (param $pout i32)
        (param $pgates i32) (param $ptc i32) (param $keep i32)
    (local $h4 i32) (local $j i32) (local $b i32) (local $gp i32) (local $hp i32)
    (local $i v128) (local $f v128) (local $g v128) (local $o v128) (local $c v128) (local $tc v128)
    (local.set $h4 (i32.shl (local.get $H) (i32.const 2)))
    (block $rowsdone
      (loop $rows
        (br_if $rowsdone (i32.ge_s (local.get $b) (local.get $batch)))
        (local.set $j (i32.const 0))
        (loop $cols
          (local.set $gp (i32.add (local.get $pgi) (local.get $j)))
          (local.set $hp (i32.add (local.get $pgh) (local.get $j)))
          (local.set $i (call $sigmoid4 (f32x4.add (v128.load align=4 (local.get $gp)) (v128.load align=4 (local.get $hp)))))
          (local.set $gp (i32.add (local.get $gp) (local.get $h4)))
          (local.set $hp (i32.add (local.get $hp) (local.get $h4)))
          (local.set $f (call $sigmoid4 (f32x4.add (v128.load align=4 (local.get $gp)) (v128.load align=4 (local.get $hp)))))
          (local.set $gp (i32.add (local.get $gp) (local.get $h4)))
          (local.set $hp (i32.add (local.get $hp) (local.get $h4)))
          (local.set $g (call $tanh4 (f32x4.add (v128.load align=4 (local.get $gp)) (v128.load align=4 (local.get $hp)))))
          (local.set $gp (i32.add (local.get $gp) (local.get $h4)))
          (local.set $hp (i32.add (local.get $hp) (local.get $h4)))
          (local.set $o (call $sigmoid4 (f32x4.add (v128.load align=4 (local.get $gp)) (v128.load align=4 (local.get $hp)))))
          (local.set $c (f32x4.add
            (f32x4.mul (local.get $f) (v128.load align=4 (i32.add (local.get $pcp) (local.get $j))))
            (f32x4.mul (local.get $i) (local.get $g))))
          (local.set $tc (call $tanh4 (local.get $c)))
          (v128.store align=4 (i32.add (local.get $pcc) (local.get $j)) (local.get $c))
          (v128.store align=4 (i32.add (local.get $pout) (local.get $j)) (f32x4.mul (local.get $o) (local.get $tc)))
          (if (local.get $keep) (then
            (local.set $gp (i32.add (local.get $pgates) (local.get $j)))
            (v128.store align=4 (local.get $gp) (local.get $i))
            (local.set $gp (i32.add (local.get $gp) (local.get $h4)))
            (v128.store align=4 (local.get $gp) (local.get $f))
            (local.set $gp (i32.add (local.get $gp) (local.get $h4)))
            (v128.store align=4 (local.get $gp) (local.get $g))
            (local.set $gp (i32.add (local.get $gp) (local.get $h4)))
            (v128.store align=4 (local.get $gp) (local.get $o))
            (v128.store align=4 (i32.add (local.get $ptc) (local.get $j)) (local.get $tc))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br_if $cols (i32.lt_s (local.get $j) (local.get $h4))))
        (local.set $pgi (i32.add (local.get $pgi) (i32.shl (local.get $h4) (i32.const 2))))
        (local.set $pgh (i32.add (local.get $pgh) (i32.shl (local.get $h4) (i32.const 2))))
        (local.set $pgates (i32.add (local.get $pgates) (i32.shl (local.get $h4) (i32.const 2))))
        (local.set $pcp (i32.add (local.get $pcp) (local.get $h4)))
        (local.set $pcc (i32.add (local.get $pcc) (local.get $h4)))
        (local.set $pout (i32.add (local.get $pout) (local.get $h4)))
        (local.set $ptc (i32.add (local.get $ptc) (local.get $h4)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $rows))))
)
