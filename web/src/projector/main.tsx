/** Entry of /projector: the join code, QR and quiz aggregates on the classroom's screen. */
import { mountPage } from '../lib/mount.tsx';
import consoleMessages from '../console/messages.ts';
import { ProjectorApp } from './Projector.tsx';
import messages from './messages.ts';
import '../console/console.css';
import '../console/panels.css';
import './projector.css';

mountPage(<ProjectorApp />, consoleMessages, messages);
