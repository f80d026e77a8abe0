export { runCommand, parseTimes, CommandFailedError, type CommandContext, type CommandResult, type RunCommandOptions } from './run-command.ts';
export { terminateGroup, groupAlive, signalGroup } from './process-group.ts';
