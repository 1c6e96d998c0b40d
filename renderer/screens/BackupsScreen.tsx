import { ComingLater } from '../components/ComingLater.js';

// Placeholder until a later version fills this screen in.
export function BackupsScreen() {
  return <ComingLater title="nav.backups" description="backups.desc" />;
}
