import { useApp } from '../store/app.js';
import { useT } from '../i18n/useT.js';

export function Header() {
  const t = useT();
  const locale = useApp((s) => s.locale);
  const setLocale = useApp((s) => s.setLocale);
  const version = useApp((s) => s.info?.version);
  return (
    <header className="header">
      <div className="brand">
        <span className="brand-name">Lifeline</span>
        <span className="brand-subtitle">{t('app.subtitle')}</span>
        {version && <span className="brand-version">{t('app.version', { version })}</span>}
      </div>
      <button
        type="button"
        className="lang-switch"
        data-testid="lang-switch"
        data-locale={locale}
        title={t('lang.switchTitle')}
        onClick={() => setLocale(locale === 'zh-CN' ? 'en' : 'zh-CN')}
      >
        {t('lang.switch')}
      </button>
    </header>
  );
}
