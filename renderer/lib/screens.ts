// The console's screens, in navigation order. Pure (the unit tests read it without a browser).
export const SCREENS = ['ask', 'kb', 'chatchat', 'health', 'backups', 'recovery', 'drills'] as const;
export type Screen = (typeof SCREENS)[number];
