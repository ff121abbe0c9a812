export { fixedNanoTimestamp, parseCriLogLine, type CriLogLine, type LogStream } from './cri-log-line.js';
export { LogMessageAssembler, selectMessages, type LogMessage, type LogSelection } from './log-message.js';
export { readLogs, type ReadLogsOptions } from './log-reader.js';
