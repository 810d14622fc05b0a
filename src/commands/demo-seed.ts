/** The demo's world, and the simulator's by default: the same organisation whichever one a newcomer starts. */
export const DEMO_SEED = 42;
