import { useApp } from '../store/app.js';
import { useT } from '../i18n/useT.js';

/** Shown in a browser without a valid token: the operator must open the address `lifeline serve` printed. */
export function AccessNeeded() {
  const t = useT();
  const access = useApp((s) => s.access);
  return (
    <section className="screen access" data-testid="access-needed" data-access={access}>
      <div className="panel panel-warn" role="alert">
        <h1>{t('access.title')}</h1>
        {access === 'denied' && <p className="strong">{t('access.denied')}</p>}
        <p>{t('access.body')}</p>
        <p>
          <code className="address">{t('access.example')}</code>
        </p>
      </div>
    </section>
  );
}
