import type { MessageKey } from '../i18n/index.js';
import { useT } from '../i18n/useT.js';

/** The placeholder of a screen that a later version fills in. */
export function ComingLater({ title, description }: { title: MessageKey; description: MessageKey }) {
  const t = useT();
  return (
    <section className="screen" data-testid="coming-later">
      <h1>
        {t(title)} <span className="badge">{t('coming.badge')}</span>
      </h1>
      <div className="panel">
        <p>{t(description)}</p>
        <p className="muted">{t('coming.body')}</p>
      </div>
    </section>
  );
}
