/** The ROS 2 transport layer: see transport.ts for the interface and open.ts for choosing an implementation. */
export * from "./messages.js";
export * from "./qos.js";
export * from "./names.js";
export * from "./domain.js";
export * from "./transport.js";
export * from "./open.js";
export * from "./latest.js";
export * from "./match.js";
export * from "./ros2-hardware.js";
export * from "./joint-state-map.js";
