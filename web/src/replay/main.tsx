/** Entry of /replay/<id>: a recorded lesson with its chapters, engagement curve and chat. */
import ai from '../lib/ai/messages.ts';
import { mountPage } from '../lib/mount.tsx';
import messages from './messages.ts';
import { ReplayPage } from './ReplayPage.tsx';
import '../lib/components/chat/chat.css';
import './replay.css';

mountPage(<ReplayPage />, ai, messages);
