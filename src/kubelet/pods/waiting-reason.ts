/**
 * Why a container is not running, as its status shows it (state.waiting): the reasons
 * upstream uses, which tools and users match on.
 */
export type WaitingReasonName =
  | 'ContainerCreating'
  | 'PodInitializing'
  | 'ErrImagePull'
  | 'ImagePullBackOff'
  | 'ErrImageNeverPull'
  | 'InvalidImageName'
  | 'CreateContainerConfigError'
  | 'CreateContainerError'
  | 'RunContainerError'
  | 'PostStartHookError'
  | 'CrashLoopBackOff';

export interface WaitingReason {
  reason: WaitingReasonName;
  message: string;
}
