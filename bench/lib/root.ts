/**
 * The tskube checkout whose build a bench measures: BENCH_TSKUBE_ROOT names another one
 * (scripts/lib/common.sh always sets TSKUBE_ROOT to the checkout running the bench).
 */
export const tskubeRoot = process.env['BENCH_TSKUBE_ROOT'] ?? process.env['TSKUBE_ROOT'] ?? process.cwd();
