import { useEffect } from 'react';
import { useApp } from '../store/app.js';
import { useWizard } from '../store/wizard.js';
import { useT } from '../i18n/useT.js';
import { formatDateTime } from '../lib/format.js';
import { currentStep, isFinished, stepNumber, stepTitleKey, WIZARD_STEPS } from '../lib/wizard.js';

/**
 * Shown above every screen: "not shut down cleanly — start the recovery wizard" after a power
 * cut, and "resume recovery (step X)" while a recovery run is unfinished. Reads the run once
 * the core has answered app.info.
 */
export function RecoveryBanners() {
  const t = useT();
  const info = useApp((s) => s.info);
  const screen = useApp((s) => s.screen);
  const setScreen = useApp((s) => s.setScreen);
  const run = useWizard((s) => s.run);
  const loaded = useWizard((s) => s.loaded);
  const uncleanHandled = useWizard((s) => s.uncleanHandled);
  const loadCurrent = useWizard((s) => s.loadCurrent);
  const hasInfo = info !== null;

  useEffect(() => {
    if (hasInfo && !loaded) void loadCurrent();
  }, [hasInfo, loaded, loadCurrent]);

  const unfinished = run && !isFinished(run) ? run : null;
  const onRecovery = screen === 'recovery';
  const showUnclean = Boolean(info?.uncleanShutdown) && !uncleanHandled;

  return (
    <>
      {showUnclean && (
        <div className="recovery-banner banner-unclean" role="alert" data-testid="unclean-banner">
          <p className="strong">
            <span aria-hidden="true">⚡ </span>
            {t('unclean.title')}
          </p>
          <p className="small-text">{t('unclean.explain')}</p>
          {!onRecovery && (
            <button type="button" className="primary" data-testid="unclean-open" onClick={() => setScreen('recovery')}>
              {t('unclean.open')}
            </button>
          )}
        </div>
      )}
      {unfinished && (
        <div className="recovery-banner banner-resume" role="status" data-testid="wizard-resume-banner" data-step={currentStep(unfinished)}>
          {onRecovery ? (
            <p>
              {t('resume.here', {
                operator: unfinished.operator,
                time: formatDateTime(unfinished.startedAt),
                n: stepNumber(currentStep(unfinished)),
                total: WIZARD_STEPS.length,
                step: t(stepTitleKey(currentStep(unfinished))),
              })}
            </p>
          ) : (
            <>
              <p>{t('resume.title', { operator: unfinished.operator, time: formatDateTime(unfinished.startedAt) })}</p>
              <button type="button" className="primary" data-testid="wizard-resume" onClick={() => setScreen('recovery')}>
                {t('resume.button', { n: stepNumber(currentStep(unfinished)), step: t(stepTitleKey(currentStep(unfinished))) })}
              </button>
            </>
          )}
        </div>
      )}
    </>
  );
}
