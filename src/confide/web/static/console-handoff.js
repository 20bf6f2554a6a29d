// Console feature: handoff. See the extension points (`ctx`) in console.js.

export function install(ctx) {}
