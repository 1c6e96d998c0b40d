import { ComingLater } from '../components/ComingLater.js';

// Placeholder until a later version fills this screen in.
export function DrillsScreen() {
  return <ComingLater title="nav.drills" description="drills.desc" />;
}
