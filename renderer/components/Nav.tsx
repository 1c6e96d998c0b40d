import { SCREENS, useApp } from '../store/app.js';
import { useT } from '../i18n/useT.js';

export function Nav() {
  const t = useT();
  const screen = useApp((s) => s.screen);
  const setScreen = useApp((s) => s.setScreen);
  return (
    <nav className="nav" aria-label={t('nav.label')}>
      <ul>
        {SCREENS.map((id) => (
          <li key={id}>
            <button
              type="button"
              className={id === screen ? 'nav-item active' : 'nav-item'}
              data-testid={`nav-${id}`}
              aria-current={id === screen ? 'page' : undefined}
              onClick={() => setScreen(id)}
            >
              {t(`nav.${id}`)}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
