// Moved to src/common/html.ts (the mail templates escape with it too).
export * from '../../common/html.ts';
