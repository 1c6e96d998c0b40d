import { useEffect, type ComponentType } from 'react';
import { startApp, useApp, type Screen } from './store/app.js';
import { useT } from './i18n/useT.js';
import { Header } from './components/Header.js';
import { Nav } from './components/Nav.js';
import { StatusBar } from './components/StatusBar.js';
import { AccessNeeded } from './components/AccessNeeded.js';
import { RecoveryBanners } from './components/RecoveryBanners.js';
import { AskScreen } from './screens/AskScreen.js';
import { KbScreen } from './screens/KbScreen.js';
import { HealthScreen } from './screens/HealthScreen.js';
import { ChatchatScreen } from './screens/ChatchatScreen.js';
import { BackupsScreen } from './screens/BackupsScreen.js';
import { RecoveryScreen } from './screens/RecoveryScreen.js';
import { DrillsScreen } from './screens/DrillsScreen.js';

const SCREEN_COMPONENTS: Record<Screen, ComponentType> = {
  ask: AskScreen,
  kb: KbScreen,
  chatchat: ChatchatScreen,
  health: HealthScreen,
  backups: BackupsScreen,
  recovery: RecoveryScreen,
  drills: DrillsScreen,
};

export function App() {
  const t = useT();
  const locale = useApp((s) => s.locale);
  const screen = useApp((s) => s.screen);
  const access = useApp((s) => s.access);
  const loadError = useApp((s) => s.loadError);

  useEffect(() => startApp(), []);
  useEffect(() => {
    document.documentElement.lang = locale;
    document.title = `Lifeline · ${t('app.subtitle')}`;
  }, [locale, t]);

  if (access !== 'ok') {
    return (
      <div className="app app-locked">
        <Header />
        <main className="main">
          <AccessNeeded />
        </main>
      </div>
    );
  }

  const Current = SCREEN_COMPONENTS[screen];
  return (
    <div className="app">
      <Header />
      <Nav />
      <main className="main">
        {loadError && (
          <p className="error banner" role="alert" data-testid="load-error">
            {t('error.load', { message: loadError })}
          </p>
        )}
        <RecoveryBanners />
        <Current />
      </main>
      <StatusBar />
    </div>
  );
}
