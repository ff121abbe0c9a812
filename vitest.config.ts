import { defineConfig } from 'vitest/config';

// Three kinds of test, each its own project so `--project unit` needs no root, no
// containerd and no control plane:
//  unit         pure logic (planners, parsers, formatters)
//  integration  the real containerd, CNI plugins, netns, netfilter (root)
//  e2e          the real control plane from test/testbed (root)
export default defineConfig({
  test: {
    projects: [
      {
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Files share one containerd and one host network; run them one at a time.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          globalSetup: ['test/testbed/global-setup.ts'],
          // After the integration project, never beside it: both run kubelets on the one
          // containerd, and a kubelet rightly removes kubelet-made pods it does not know.
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
