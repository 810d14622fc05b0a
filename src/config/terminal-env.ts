/** https://no-color.org: NO_COLOR set to anything but the empty string turns every colour off. */
export const colourWanted = (env: NodeJS.ProcessEnv = process.env): boolean => !env.NO_COLOR;
