import { archiveRecord } from '@archiver/testing';
import { toVerificationView } from './archive.view';

describe(toVerificationView.name, () => {
  const at = new Date('2026-12-04T10:00:00.000Z');

  it('says unverified until a drill has run', () => {
    expect(toVerificationView(archiveRecord({ status: 'completed' }))).toEqual({
      status: 'unverified',
      checkedAt: null,
      verifiedAt: null,
      error: null,
    });
  });

  it('shows a pass with when it ran', () => {
    expect(toVerificationView(archiveRecord({ verifiedAt: at, verifyCheckedAt: at }))).toEqual({
      status: 'passed',
      checkedAt: at.toISOString(),
      verifiedAt: at.toISOString(),
      error: null,
    });
  });

  it('shows a failure with its code and message, even after an earlier pass', () => {
    const record = archiveRecord({ verifyCheckedAt: at, verifyErrorCode: 'MISSING_OBJECT', verifyError: 'b/objects/ab/cd is missing' });
    expect(toVerificationView(record)).toEqual({
      status: 'failed',
      checkedAt: at.toISOString(),
      verifiedAt: null,
      error: { code: 'MISSING_OBJECT', message: 'b/objects/ab/cd is missing' },
    });
  });
});
