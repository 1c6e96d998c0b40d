import { ComingLater } from '../components/ComingLater.js';

// Placeholder until a later version fills this screen in.
export function HealthScreen() {
  return <ComingLater title="nav.health" description="health.desc" />;
}
