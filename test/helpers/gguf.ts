// The tiny GGUF model writer lives with the models code (drills use it too).
export * from '../../electron/core/models/tinyGguf.js';
