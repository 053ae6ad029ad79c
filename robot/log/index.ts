/** Session logs (MCAP, ROS 2 message types): writing, reading back, summarizing. */
export {
  SessionLog,
  LogChannel,
  TOPICS,
  SESSION_KINDS,
  type SessionKind,
  type SessionLogOptions,
  type SessionLogStats,
  type JointStateSample,
  type PolicySample,
  type LoopTimingSample,
  type NumberArray,
} from "./session-log.js";
export { readSessionLog, type SessionLogContents, type LoggedChannel, type LoggedMessage, type ReadSessionLogOptions } from "./read-session-log.js";
export { summarizeSessionLog, formatSessionSummary, type SessionSummary } from "./summarize.js";
export { LOG_LEVELS, type EventLevel, type LogSchema, rosTime, fromRosTime } from "./schemas.js";
export { parseRos2Msg, concatMsgDefinitions, type MsgDefinitions } from "./ros2msg.js";
export { createCodec, type MessageCodec } from "./cdr-codec.js";
