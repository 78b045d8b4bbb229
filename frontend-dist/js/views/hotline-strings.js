// The hotline pages' own strings (issue 18): imported by the case page's
// hotline panel, the callback queue and the supervisor's hotline figures,
// so they load with those pages and not on first visit.
import { addStrings } from '../i18n.js';
import zh from '../../i18n/hotline-pages.zh-CN.js';

const en = () => import('../../i18n/hotline-pages.en.js');
await addStrings(zh, en);
