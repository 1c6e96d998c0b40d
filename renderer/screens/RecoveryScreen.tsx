import { ComingLater } from '../components/ComingLater.js';

// Placeholder until a later version fills this screen in.
export function RecoveryScreen() {
  return <ComingLater title="nav.recovery" description="recovery.desc" />;
}
