export { deploy, DeploymentError, type DeployOptions, type DeployContext, type DeployResult, type DeployTarget } from './deploy.ts';
export { publishToDirectory, type DirectoryPublish, type DirectoryPublishResult } from './directory-target.ts';
